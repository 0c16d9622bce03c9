import { z } from 'zod';
import { isEmail } from '../contacts/values';
import { SITE_KEY, VISITOR_ID } from './site-access';

// The wire format of POST /t, shared by the tracker (widgets/tracker.ts) and the
// server. Keys are short because every byte of w.js counts.
//
// { "k": SITE_KEY, "v": VISITOR_ID | null, "e": [EVENT, ...], "id"?: IDENTIFY, "b"?: 1 }
//   k   site public key (data-site)
//   v   visitor id (random, 16–64 chars of [A-Za-z0-9_-]); null before consent in
//       consent mode: the events are counted but tied to no visitor
//   b   1 when the browser reports navigator.webdriver (automation)
//   c   1 when the page runs in consent mode and the visitor consented; a site
//       with consent_required stores no visitor id without it
// EVENT:
//   t   type: "pv" page view | "ev" custom event | "out" outbound link click |
//       "dl" file download | "eng" engagement (time on page, scroll depth) |
//       "fv" / "fc" / "fx" focus item view / click (call to action) / close,
//       with p: { focus_id, variant } (submissions are recorded by POST /f/:id) |
//       "fmv" / "fms" form view (rendered) / start (first input or focus), with p: { form_id } |
//       "sv" / "sc" slot shown / clicked inside, with p: { slot_id, slot, variant } (core/slots/resolve.ts)
//   u   page URL (absolute)            r  referrer (page views)
//   ti  document title (page views)    n  event name (custom events)
//   h   link href (out, dl)            p  props: flat object of string/number/boolean
//   sw, sh  screen size (page views)   l  navigator.language (page views)
//   d   milliseconds on page (eng)     s  max scroll depth in percent (eng)
//   ts  client time in ms (optional; the server clamps it to its own clock)
//   a   1 on a page view resent when the visitor consents on a page already counted without
//       a visitor: the server turns that anonymous view into this visitor's (never a second one)
// IDENTIFY: { "email": "...", "sig": hex HMAC-SHA256(site secret, normalised email) }
//
// Answer, once committed: 202 { "ok": true, "stored": N, "dropped"?: "bot" | "dnt", "focus"?: true }
//   focus  on a visitor's page view when the site has an active focus item or slot: w.js, which
//          sends page views with fetch to read this, then asks GET /focus for the page

const str = (max: number) => z.string().max(max);
const url = str(2048);

const Props = z
  .record(str(64), z.union([str(500), z.number().finite(), z.boolean(), z.null()]))
  .refine((o) => Object.keys(o).length <= 25, 'at most 25 props');

export const EVENT_TYPES = {
  pv: 'page_view',
  ev: 'custom',
  out: 'outbound_click',
  dl: 'file_download',
  eng: 'engagement',
  fv: 'focus_view',
  fc: 'focus_click',
  fx: 'focus_close',
  fmv: 'form_view',
  fms: 'form_start',
  sv: 'slot_view',
  sc: 'slot_click',
} as const;

export const TrackEvent = z.object({
  t: z.enum(['pv', 'ev', 'out', 'dl', 'eng', 'fv', 'fc', 'fx', 'fmv', 'fms', 'sv', 'sc']),
  u: url,
  r: url.optional(),
  ti: str(500).optional(),
  n: str(100).optional(),
  h: url.optional(),
  p: Props.optional(),
  sw: z.number().int().min(0).max(20_000).optional(),
  sh: z.number().int().min(0).max(20_000).optional(),
  l: str(35).optional(),
  d: z.number().int().min(0).max(86_400_000).optional(),
  s: z.number().int().min(0).max(100).optional(),
  ts: z.number().int().positive().optional(),
  a: z.literal(1).optional(),
});
export type TrackEvent = z.infer<typeof TrackEvent>;

export const Identify = z.object({
  // Checked before the signature: an email with control characters is refused (422), signed or not.
  email: str(254)
    .refine((e) => isEmail(e.trim()), 'must be a valid email address')
    .meta({ format: 'email' }),
  sig: z.string().regex(/^[0-9a-f]{64}$/i, 'must be a hex HMAC-SHA256'),
});

export const TrackPayload = z.object({
  k: SITE_KEY,
  v: VISITOR_ID.nullable(),
  e: z.array(TrackEvent).max(50).default([]),
  id: Identify.optional(),
  b: z.literal(1).optional(),
  c: z.literal(1).optional(),
});
export type TrackPayload = z.infer<typeof TrackPayload>;

export const MAX_TRACK_BODY = 32 * 1024;
