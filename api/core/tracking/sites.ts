import { z } from 'zod';
import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError, ValidationError } from '../errors';
import { randomToken } from '../util/crypto';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { deleteForSite } from './visitors';
import { isTimeZone } from '../util/zones';

// "https://example.com", "http://127.0.0.2:8080" or "https://*.example.com".
const ORIGIN_RE = /^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/;

export const SiteSettings = z.strictObject({
  consent_required: z.boolean().optional(),
  respect_dnt: z.boolean().optional(),
  anonymize_ip: z.boolean().optional(),
  allow_automation: z.boolean().optional(),
  retention_days: z.number().int().min(1).max(3650).optional(),
});

export const SiteInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  allowed_origins: z
    .array(z.string().trim().toLowerCase().max(300).regex(ORIGIN_RE, 'must be an origin like https://example.com or https://*.example.com'))
    .max(50)
    .default([]),
  settings: SiteSettings.default({}),
  timezone: z
    .string()
    .max(64, { abort: true })
    .refine(isTimeZone, 'must be an IANA time zone name, such as Europe/Paris')
    // Stored as the runtime spells it ("europe/paris" → "Europe/Paris"), so every reader agrees.
    .transform((tz) => new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone)
    .nullable()
    .optional()
    .describe("The site's IANA time zone: campaign waits for a time window use it for contacts without a `timezone` field (else UTC)"),
});
export type SiteInput = z.infer<typeof SiteInput>;
export const SitePatch = z.strictObject({
  name: SiteInput.shape.name.optional(),
  allowed_origins: SiteInput.shape.allowed_origins.unwrap().optional(),
  settings: SiteSettings.optional(),
  timezone: SiteInput.shape.timezone,
});

export interface Site {
  id: number;
  name: string;
  public_key: string;
  allowed_origins: string[];
  settings: {
    consent_required: boolean;
    respect_dnt: boolean;
    anonymize_ip: boolean;
    allow_automation: boolean;
    retention_days: number;
  };
  /** IANA time zone name, or null (UTC). */
  timezone: string | null;
  /** The sample site behind /demo (created on the first start; yours to delete). */
  is_sample: boolean;
  created_at: string;
  updated_at: string;
}

/** A site as the ingestion path needs it, secret included (never sent to browsers). */
export interface SiteRecord extends Site {
  secret: string;
}

const SETTING_COLS = {
  consent_required: 'consent_required',
  respect_dnt: 'respect_dnt',
  anonymize_ip: 'anonymize_ip',
  allow_automation: 'allow_automation',
  retention_days: 'retention_days',
} as const;

function record(r: Row): SiteRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    public_key: String(r.public_key),
    secret: String(r.secret),
    allowed_origins: JSON.parse(String(r.allowed_origins)) as string[],
    settings: {
      consent_required: Number(r.consent_required) === 1,
      respect_dnt: Number(r.respect_dnt) === 1,
      anonymize_ip: Number(r.anonymize_ip) === 1,
      allow_automation: Number(r.allow_automation) === 1,
      retention_days: Number(r.retention_days),
    },
    timezone: r.timezone === null || r.timezone === undefined ? null : String(r.timezone),
    is_sample: Number(r.is_sample) === 1,
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

export function publicView({ secret: _secret, ...site }: SiteRecord): Site {
  return site;
}

export async function createSite({ ctx, input }: { ctx: Ctx; input: SiteInput & { is_sample?: boolean } }): Promise<SiteRecord> {
  const now = ctx.now();
  const s = input.settings;
  const res = await ctx.client.execute({
    sql: `INSERT INTO sites (name, public_key, secret, allowed_origins, consent_required, respect_dnt, anonymize_ip, allow_automation, retention_days, timezone, is_sample, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    args: [
      input.name,
      'pk_' + randomToken(20),
      'sk_' + randomToken(40),
      JSON.stringify([...new Set(input.allowed_origins)]),
      s.consent_required ? 1 : 0,
      s.respect_dnt ? 1 : 0,
      s.anonymize_ip ? 1 : 0,
      s.allow_automation ? 1 : 0,
      s.retention_days ?? 180,
      input.timezone ?? null,
      input.is_sample ? 1 : 0,
      now,
      now,
    ],
  });
  return record(res.rows[0]!);
}

export async function getSite({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<SiteRecord> {
  const res = await ctx.client.execute({ sql: 'SELECT * FROM sites WHERE id = ?', args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Site');
  return record(res.rows[0]);
}

export async function listSites({ ctx, input }: { ctx: Ctx; input: { limit: number; cursor?: string } }): Promise<Page<Site>> {
  const after = input.cursor ? decodeCursor(input.cursor)[1] : 0;
  const res = await ctx.client.execute({ sql: 'SELECT * FROM sites WHERE id > ? ORDER BY id LIMIT ?', args: [after, input.limit + 1] });
  const more = res.rows.length > input.limit;
  const rows = (more ? res.rows.slice(0, input.limit) : res.rows).map(record);
  return { data: rows.map(publicView), has_more: more, next_cursor: more ? encodeCursor([null, rows[rows.length - 1]!.id]) : null };
}

export async function updateSite({ ctx, input }: { ctx: Ctx; input: { id: number; patch: z.infer<typeof SitePatch> } }): Promise<SiteRecord> {
  const sets: string[] = [];
  const args: (string | number | null)[] = [];
  if (input.patch.name !== undefined) sets.push('name = ?'), args.push(input.patch.name);
  if (input.patch.allowed_origins !== undefined) sets.push('allowed_origins = ?'), args.push(JSON.stringify([...new Set(input.patch.allowed_origins)]));
  if (input.patch.timezone !== undefined) sets.push('timezone = ?'), args.push(input.patch.timezone);
  for (const [k, col] of Object.entries(SETTING_COLS)) {
    const v = input.patch.settings?.[k as keyof typeof SETTING_COLS];
    if (v === undefined) continue;
    sets.push(`${col} = ?`);
    args.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
  if (!sets.length) throw new ValidationError('Nothing to change.');
  const res = await ctx.client.execute({
    sql: `UPDATE sites SET ${sets.join(', ')}, updated_at = ? WHERE id = ? RETURNING *`,
    args: [...args, ctx.now(), input.id],
  });
  if (!res.rows[0]) throw new NotFoundError('Site');
  sitesChanged(ctx);
  return record(res.rows[0]);
}

export async function rotateSiteSecret({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<SiteRecord> {
  const res = await ctx.client.execute({
    sql: 'UPDATE sites SET secret = ?, updated_at = ? WHERE id = ? RETURNING *',
    args: ['sk_' + randomToken(40), ctx.now(), input.id],
  });
  if (!res.rows[0]) throw new NotFoundError('Site');
  sitesChanged(ctx);
  return record(res.rows[0]);
}

export async function deleteSite({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  // Anonymous visitors and their events go with the site; identified contacts stay.
  const out = await ctx.client.batch(
    [
      { sql: 'DELETE FROM events WHERE site_id = ? AND contact_id IS NULL', args: [input.id] },
      { sql: 'UPDATE events SET site_id = NULL, visitor_id = NULL WHERE site_id = ?', args: [input.id] },
      deleteForSite(input.id),
      { sql: 'DELETE FROM sites WHERE id = ?', args: [input.id] },
      // Slots fill this site's pages only (core/slots/).
      { sql: 'DELETE FROM slots WHERE site_id = ?', args: [input.id] },
    ],
    'write',
  );
  if (out[3]!.rowsAffected === 0) throw new NotFoundError('Site');
  sitesChanged(ctx);
}

// The hot path looks sites up by public key on every hit (the allow-list, the privacy settings,
// the secret); a short-lived cache keeps that off the database. It is this context's (one per
// process on Node, one per isolate on Workers): a site write clears it at once in the context that
// made it, and another isolate keeps answering from what it read for at most SITE_CACHE_MS — an
// origin removed from the allow-list, a changed setting (anonymize_ip, respect_dnt,
// consent_required), a rotated secret or a deleted site's key still counts there for up to
// 10 seconds. A look-up that started before a write in this context is not kept.
export const SITE_CACHE_MS = 10_000;
// Whether a site has something for GET /focus (below): edits show elsewhere within FOCUS_CACHE_MS.
export const FOCUS_CACHE_MS = 10_000;

interface SiteCaches {
  sites: Map<string, { site: SiteRecord | null; until: number }>;
  focus: Map<string, { has: boolean; until: number }>;
  /** Bumped by every change, so a look-up that started before it does not cache what it read. */
  version: number;
}
const cachesByCtx = new WeakMap<Ctx, SiteCaches>();
function cachesOf(ctx: Ctx): SiteCaches {
  let c = cachesByCtx.get(ctx);
  if (!c) cachesByCtx.set(ctx, (c = { sites: new Map(), focus: new Map(), version: 0 }));
  return c;
}

/** Every site write calls this: this context forgets every cached site (and focus flag). */
function sitesChanged(ctx: Ctx): void {
  const c = cachesOf(ctx);
  c.version++;
  c.sites.clear();
  c.focus.clear();
}

export async function siteByKey(ctx: Ctx, key: string): Promise<SiteRecord | null> {
  const now = ctx.now();
  const c = cachesOf(ctx);
  const hit = c.sites.get(key);
  if (hit && hit.until > now) return hit.site;
  const version = c.version;
  const res = await ctx.client.execute({ sql: 'SELECT * FROM sites WHERE public_key = ?', args: [key] });
  const site = res.rows[0] ? record(res.rows[0]) : null;
  if (version === c.version) {
    if (c.sites.size > 10_000) c.sites.clear();
    c.sites.set(key, { site, until: now + SITE_CACHE_MS });
  }
  return site;
}

/** True when the request's origin is one the site allows (exact, or a *. wildcard for subdomains). */
export function originAllowed(site: Site, origin: string | null): boolean {
  if (!origin) return false;
  const o = origin.toLowerCase();
  for (const allowed of site.allowed_origins) {
    if (allowed === o) return true;
    const m = /^(https?):\/\/\*\.(.+)$/.exec(allowed);
    if (m) {
      const [, scheme, rest] = m;
      if (o.startsWith(`${scheme}://`) && o.endsWith(`.${rest}`) && !o.slice(scheme!.length + 3, -(rest!.length + 1)).includes('/')) return true;
    }
  }
  return false;
}

// Whether a site has any active focus item (its own or one for every site) or active slot, per
// public key: every page view's answer carries it, so w.js asks GET /focus only when there is
// something to ask. Focus item and slot writes call focusItemsChanged(ctx); other processes
// (Workers isolates) see edits within FOCUS_CACHE_MS, as GET /focus does.
export function focusItemsChanged(ctx: Ctx): void {
  const c = cachesOf(ctx);
  c.version++;
  c.focus.clear();
}

export async function siteHasFocus(ctx: Ctx, site: SiteRecord): Promise<boolean> {
  const now = ctx.now();
  const c = cachesOf(ctx);
  const hit = c.focus.get(site.public_key);
  if (hit && hit.until > now) return hit.has;
  const version = c.version;
  const res = await ctx.client.execute({
    sql: `SELECT EXISTS (SELECT 1 FROM focus_items WHERE active = 1 AND (site_id = ? OR site_id IS NULL))
      OR EXISTS (SELECT 1 FROM slots WHERE site_id = ? AND active = 1) AS has`,
    args: [site.id, site.id],
  });
  const has = Number(res.rows[0]!.has) === 1;
  if (version === c.version) {
    if (c.focus.size > 10_000) c.focus.clear();
    c.focus.set(site.public_key, { has, until: now + FOCUS_CACHE_MS });
  }
  return has;
}
