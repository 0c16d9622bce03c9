import type { Ctx } from '../context';
import { AppError, ValidationError, zodErrors } from '../errors';
import { parseJsonInput } from '../util/text';
import { anonymizeIp, isBot, parseUserAgent, sourceOf, utmOf } from './enrich';
import { EVENT_TYPES, TrackPayload, type TrackEvent } from './payload';
import { requireSite } from './site-access';
import { siteHasFocus } from './sites';
import { resolveVisitor, verifyIdentify } from '../contacts/resolve';
import type { Hit, Ingestor, StoredEvent } from './ingest';
import { redeemHandoff, stripHandoff } from '../email/identify';

export interface CollectRequest {
  body: string;
  origin: string | null;
  userAgent: string | null;
  ip: string | null;
  doNotTrack: boolean;
  /** Country from the platform (Workers' request.cf) when it knows it. */
  country: string | null;
}

export type CollectResult = {
  stored: number;
  dropped?: 'bot' | 'dnt';
  allowOrigin: string | null;
  /** A visitor's page view on a site with an active focus item: w.js asks GET /focus next. */
  focus?: boolean;
};

function toStored(e: TrackEvent): StoredEvent {
  const type = EVENT_TYPES[e.t];
  const props: Record<string, unknown> = { ...(e.p ?? {}) };
  if (e.t === 'pv') {
    Object.assign(props, utmOf(e.u));
    if (e.sw !== undefined) props.screen = `${e.sw}x${e.sh ?? 0}`;
    if (e.l) props.language = e.l;
  }
  if (e.t === 'out' || e.t === 'dl') props.href = e.h ?? null;
  if (e.t === 'eng') {
    props.duration_ms = e.d ?? 0;
    props.scroll_pct = e.s ?? 0;
  }
  return {
    type,
    name: e.n ?? null,
    url: e.u,
    referrer: e.t === 'pv' ? e.r || null : null,
    title: e.t === 'pv' ? e.ti || null : null,
    props: Object.keys(props).length ? props : null,
    ...(e.t === 'pv' && e.a === 1 && { adopt: true }),
  };
}

/**
 * The ingestion hot path: bound and check the payload, drop bots, enrich, and
 * hand the hit to the group-commit buffer; resolves once it is committed.
 * Identify is verified before anything is stored, so a bad signature changes nothing.
 */
export async function collect({
  ctx,
  input,
  ingestor,
  geo,
}: {
  ctx: Ctx;
  input: CollectRequest;
  ingestor: Ingestor;
  geo?: (ip: string) => string | null;
}): Promise<CollectResult> {
  const parsed = TrackPayload.safeParse(parseJsonInput(input.body));
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  const p = parsed.data;
  const site = await requireSite(ctx, p.k, { origin: input.origin });
  const allowOrigin = input.origin;
  // allow_automation is a testing mode: headless and driven browsers count too.
  const bot = site.settings.allow_automation ? !input.userAgent : isBot(input.userAgent) || p.b === 1;
  if (bot) return { stored: 0, dropped: 'bot', allowOrigin };
  // Without recorded consent a consent-required site keeps no visitor id.
  if (site.settings.consent_required && p.c !== 1) p.v = null;
  if (site.settings.respect_dnt && input.doNotTrack) return { stored: 0, dropped: 'dnt', allowOrigin };
  if (p.id && !p.v) throw new ValidationError([{ field: 'v', message: 'identify needs a (consented) visitor id' }]);
  if (p.id) {
    if (!(await verifyIdentify(site, p.id.email, p.id.sig))) {
      throw new AppError('INVALID_SIGNATURE', 'The identify signature does not match this email and site.');
    }
  }

  // An email click-through (core/email/identify.ts): ll_t comes off every URL before anything
  // is stored, and a page view's is redeemed below. Hits without one pay an includes per URL.
  let handoff: string | null = null;
  for (const e of p.e) {
    if (e.u.includes('ll_t=')) {
      const s = stripHandoff(e.u);
      e.u = s.url;
      if (e.t === 'pv') handoff ??= s.token;
    }
    if (e.r?.includes('ll_t=')) e.r = stripHandoff(e.r).url;
  }

  const events = p.e.map(toStored);
  const firstView = p.e.find((e) => e.t === 'pv');
  let country = input.country;
  if (!country && input.ip && geo) country = geo(site.settings.anonymize_ip ? anonymizeIp(input.ip) : input.ip);
  const hit: Hit = {
    siteId: site.id,
    uid: p.v,
    at: ctx.now(),
    client: parseUserAgent(input.userAgent!),
    country,
    source: firstView ? sourceOf(firstView.u, firstView.r) : null,
    events,
  };
  // Identify first, so the events sent along with it belong to the person who
  // just identified (the previous person on a shared browser keeps theirs).
  if (p.id && p.v) {
    await resolveVisitor({ ctx, input: { siteId: site.id, uid: p.v, identity: { email: p.id.email }, via: 'identify' } });
  } else if (handoff && p.v) {
    // Without a visitor id (consent mode, before consent) the token is left unused.
    const contactId = await redeemHandoff(ctx, handoff);
    if (contactId !== null) {
      // The contact may have been erased since the click: the hit still counts, unidentified.
      await resolveVisitor({ ctx, input: { siteId: site.id, uid: p.v, identity: { contactId }, via: 'email' } }).catch((e: unknown) =>
        ctx.log.warn('email click-through not identified', { error: e instanceof Error ? e.message : String(e) }),
      );
    }
  }
  // Only a visitor's page view can use focus items; the answer is cached, and looked up meanwhile.
  const [focus] = await Promise.all([
    // A failed look-up must not fail a hit that is being committed: then w.js does not ask.
    p.v && firstView ? siteHasFocus(ctx, site).catch(() => false) : false,
    events.length || p.v ? ingestor.add([hit]) : undefined,
  ]);
  return { stored: events.length, allowOrigin, ...(focus && { focus }) };
}
