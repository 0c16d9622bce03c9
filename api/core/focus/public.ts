/**
 * GET /focus: the focus items that apply to one page view. The contract with
 * the widget chunk (widgets/):
 *
 *   GET /focus?k=SITE_KEY&v=VISITOR_ID&u=PAGE_URL&d=desktop|mobile|tablet&pv=PAGEVIEWS
 *     k   site public key (required)
 *     v   visitor id, as in POST /t (optional: before consent there is none;
 *         then the visitor counts as new and anonymous and variants are random)
 *     u   the page's absolute http(s) URL (required; the fragment is ignored)
 *     d   device type (optional; from the User-Agent when absent)
 *     pv  page views so far as the browser counts them (optional; when absent
 *         the server's count for this visitor is used) — decides `pageviews` triggers
 *
 *   200 (Cache-Control: no-store; CORS for the site's allowed origins):
 *   {
 *     "items": [
 *       {
 *         "id": 12,
 *         "variant": "b",
 *         "style": {                      // one of:
 *           "type": "bar", "position": "top" | "bottom", "sticky": true,
 *           //  | "type": "modal"
 *           //  | "type": "slide_in", "corner": "bottom_right" | "bottom_left" | "top_right" | "top_left"
 *           //  | "type": "full_screen"
 *           "colors": { "background": "#ffffff", "text": "#1f2937", "button": "#2563eb" }
 *         },
 *         "content": {                    // plain text: render with textContent, never as HTML
 *           "kind": "notice" | "link" | "form",
 *           "heading": "…", "body": "…",    // may be "" (body may hold \n line breaks)
 *           "cta": { "label": "…", "url": "https://…" },   // kind "link" only (http/https)
 *           "form_id": 3                                   // kind "form" only: render form 3 (GET /f/3)
 *         },
 *         "trigger":                      // one of:
 *           { "type": "load" } | { "type": "delay", "seconds": 5 } | { "type": "scroll", "percent": 50 }
 *           | { "type": "exit_intent" } | { "type": "click", "selector": "#buy, .pricing a" }
 *           | { "type": "pageviews", "count": 3 },
 *         "frequency": {                  // enforced by the browser
 *           "mode": "every_page" | "once_per_session" | "every_n_days",
 *           "days": 7 | null,             // set only for every_n_days
 *           "stop_after_conversion": true,
 *           "stop_after_close": false,
 *           "max_displays": 3 | null
 *         }
 *       }
 *     ]
 *   }
 *   Errors use the JSON error shape: 404 unknown site key, 403 ORIGIN_NOT_ALLOWED,
 *   422 bad parameters, 429 rate limited.
 *
 * The server has already applied the URL rules, device, new vs returning,
 * anonymous vs known, segment membership and the page-view count; the browser
 * applies the trigger and the frequency rules. Nothing about the contact is
 * ever in the answer.
 *
 * What the widget reports back (POST /t, see core/tracking/payload.ts), always
 * with p: { focus_id: <id>, variant: "<key>" }:
 *   "fv" when the item is shown, "fc" when its call to action is clicked,
 *   "fx" when it is closed.
 * A form shown in a focus item is submitted to POST /f/:id carrying the focus
 * item's id and variant; the form_submit event then has props.focus_id (and
 * props.focus_variant). The stats count those as the item's submissions.
 * Conversions: clicks for notice and link items, submissions for form items.
 */
import type { Ctx } from '../context';
import type { Content, Device, Frequency, Style, Trigger } from './schema';
import { resolveVariants, type Resolved } from './schema';
import { liveItemsForSite, type LiveItem } from './focus-items';
import { chooseVariant, matchTextRule, urlSubjects, type UrlSubjects } from './targeting';

export interface PublicFocusItem {
  id: number;
  variant: string;
  style: Style;
  content: Content;
  trigger: Trigger;
  frequency: Frequency;
}

/** What GET /focus answers for an item shown in one of its variants. */
export function publicItem(item: Pick<LiveItem, 'id' | 'trigger' | 'frequency'>, v: Resolved): PublicFocusItem {
  return { id: item.id, variant: v.key, style: v.style, content: v.content, trigger: item.trigger, frequency: item.frequency };
}

export interface FocusRequest {
  siteId: number;
  uid: string | null;
  url: string;
  device: Device | 'other';
  pageviews: number | null;
}

interface VisitorFacts {
  exists: boolean;
  returning: boolean;
  known: boolean;
  pageViews: number;
  segments: Set<number>;
}

type UrlVerdict = 'yes' | 'no' | 'regex';

function urlVerdict(item: LiveItem, s: UrlSubjects): UrlVerdict {
  const rules = item.targeting.urls;
  if (!rules.length) return 'yes';
  if (rules.some((r) => r.op !== 'regex' && matchTextRule(r, s))) return 'yes';
  return rules.some((r) => r.op === 'regex') ? 'regex' : 'no';
}

const DAY = 86_400_000;

export async function focusForVisitor({ ctx, input }: { ctx: Ctx; input: FocusRequest }): Promise<{ items: PublicFocusItem[] }> {
  const subjects = urlSubjects(input.url);
  if (!subjects) return { items: [] };
  const all = await liveItemsForSite(ctx, input.siteId);
  const candidates: { item: LiveItem; url: UrlVerdict }[] = [];
  for (const item of all) {
    const devices = item.targeting.devices;
    if (devices.length && !devices.includes(input.device as Device)) continue;
    const url = urlVerdict(item, subjects);
    if (url !== 'no') candidates.push({ item, url });
  }
  if (!candidates.length) return { items: [] };

  // The rest needs the database: the visitor, their contact's segments, which
  // forms are live, and regex URL rules. One batch, one round trip.
  const segmentIds = [...new Set(candidates.flatMap((c) => c.item.targeting.segment_ids))];
  const resolved = new Map(candidates.map((c) => [c.item.id, resolveVariants(c.item)]));
  const formIds = [...new Set([...resolved.values()].flat().flatMap((v) => (v.content.kind === 'form' ? [v.content.form_id] : [])))];
  const regexRules = candidates.filter((c) => c.url === 'regex').flatMap((c) => c.item.targeting.urls.filter((r) => r.op === 'regex').map((r) => ({ id: c.item.id, pattern: r.value })));

  const stmts = [
    {
      sql: 'SELECT contact_id, proven_at, page_views, first_seen_at FROM visitors WHERE site_id = ? AND uid = ?',
      args: [input.siteId, input.uid ?? ''],
    },
    {
      // Only a browser proven to be its contact is targeted by the contact's segments.
      sql: `SELECT DISTINCT m.segment_id FROM segment_members m JOIN visitors v ON v.contact_id = m.contact_id AND v.proven_at IS NOT NULL
        WHERE v.site_id = ? AND v.uid = ? AND m.segment_id IN (SELECT value FROM json_each(?))`,
      args: [input.siteId, input.uid ?? '', JSON.stringify(segmentIds)],
    },
    { sql: 'SELECT id FROM forms WHERE active = 1 AND id IN (SELECT value FROM json_each(?))', args: [JSON.stringify(formIds)] },
  ];
  const [batch, regexHits] = await Promise.all([
    input.uid || formIds.length ? ctx.client.batch(input.uid ? stmts : stmts.slice(2), 'read') : Promise.resolve(null),
    regexMatches(ctx, regexRules, subjects),
  ]);
  const [visitorRes, segmentRes, formRes] = input.uid ? [batch?.[0], batch?.[1], batch?.[2]] : [undefined, undefined, batch?.[0]];
  const v = visitorRes?.rows[0];
  const now = ctx.now();
  const facts: VisitorFacts = {
    exists: !!v,
    returning: !!v && (Number(v.page_views) > 1 || Number(v.first_seen_at) < now - (now % DAY)),
    // Known means proven: a browser that only typed an email into a form is treated as anonymous.
    known: !!v && v.contact_id !== null && v.proven_at !== null,
    pageViews: v ? Number(v.page_views) : 0,
    segments: new Set((segmentRes?.rows ?? []).map((r) => Number(r.segment_id))),
  };
  const liveForms = new Set((formRes?.rows ?? []).map((r) => Number(r.id)));

  const out: PublicFocusItem[] = [];
  for (const { item, url } of candidates) {
    if (url === 'regex' && !regexHits.has(item.id)) continue;
    const t = item.targeting;
    if (t.visitor === 'new' && facts.returning) continue;
    if (t.visitor === 'returning' && !facts.returning) continue;
    if (t.identity === 'known' && !facts.known) continue;
    if (t.identity === 'anonymous' && facts.known) continue;
    if (t.segment_ids.length && !t.segment_ids.some((id) => facts.segments.has(id))) continue;
    if (item.trigger.type === 'pageviews' && (input.pageviews ?? facts.pageViews) < item.trigger.count) continue;
    const variants = resolved.get(item.id)!;
    const key = chooseVariant(variants, item.id, input.uid);
    const chosen = variants.find((x) => x.key === key)!;
    // A form that was deleted or switched off has nothing to show.
    if (chosen.content.kind === 'form' && !liveForms.has(chosen.content.form_id)) continue;
    out.push(publicItem(item, chosen));
  }
  return { items: out };
}

/**
 * Ids of the items with a regex rule matching the page. The database's REGEXP
 * decides (linear-time, and the same engine that validated the pattern on save).
 */
async function regexMatches(ctx: Ctx, rules: { id: number; pattern: string }[], s: UrlSubjects): Promise<Set<number>> {
  const hits = new Set<number>();
  if (!rules.length) return hits;
  const cols = rules.map((_, i) => `((? REGEXP ?) OR (? REGEXP ?)) AS m${i}`);
  const args = rules.flatMap((r) => [s.path, r.pattern, s.full, r.pattern]);
  try {
    const res = await ctx.client.execute({ sql: `SELECT ${cols.join(', ')}`, args });
    const row = res.rows[0]!;
    rules.forEach((r, i) => {
      if (Number(row[`m${i}`]) === 1) hits.add(r.id);
    });
  } catch (e) {
    // Patterns are checked on save; a database that lost REGEXP shows no regex-targeted items.
    ctx.log.warn('focus regex rules could not be evaluated', { error: e instanceof Error ? e.message : String(e) });
  }
  return hits;
}
