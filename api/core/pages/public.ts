import type { Ctx } from '../context';
import type { FormDefinition } from '../forms/schema';
import type { FormRecord } from '../forms/forms';
import { renderStamp } from '../forms/embed';
import { getSite, type SiteRecord } from '../tracking/sites';
import { randomToken } from '../util/crypto';
import { iso } from '../util/time';
import { cacheOf, entryKey, FRESH_MS, type Lookup } from './cache';
import { testArms } from './arms';
import { view, type PageView } from './pages';
import { fill, renderPage, renderSitemap, type RenderInput } from './render';
import { formIdsOf, SLUG_RE } from './schema';
import { protectPage, withTokenHoles } from '../personalise/page';
import { tokenHtml, type TokenRef } from '../personalise/tokens';
import type { Viewer } from '../personalise/who';

// What /p/{slug} and /sitemap.xml answer. A request's host picks the page set: a host some page
// names answers with that host's pages only; any other host (this server's own address) with the
// pages that name none. Published pages answer from the rendered-page cache (core/pages/cache.ts).

/** The request's host name as the page sets know it: lower case, no port, no trailing dot. */
export function normaliseHost(raw: string | null | undefined): string {
  const h = (raw ?? '').trim().toLowerCase();
  const noPort = h.startsWith('[') ? h : h.replace(/:\d+$/, '');
  return noPort.replace(/\.$/, '');
}

/** The page set answering for a host: the host itself when some page names it, else '' (this server's). */
export async function pageSetFor(ctx: Ctx, host: string): Promise<string> {
  const c = cacheOf(ctx);
  const now = ctx.now();
  if (!c.hosts || c.hosts.checkedAt + FRESH_MS <= now) {
    const generation = c.generation;
    const res = await ctx.client.execute("SELECT DISTINCT host FROM pages WHERE host != ''");
    const hosts = { set: new Set(res.rows.map((r) => String(r.host))), checkedAt: now };
    if (generation !== c.generation) return hosts.set.has(host) ? host : '';
    c.hosts = hosts;
  }
  return c.hosts.set.has(host) ? host : '';
}

/** Where a page lives: https://{host}/p/{slug} on its own host, else under this server's address. */
export function canonicalUrl(base: string, page: { host: string | null; slug: string }): string {
  return page.host ? `https://${page.host}/p/${page.slug}` : `${base}/p/${page.slug}`;
}

async function activeForms(ctx: Ctx, ids: number[]): Promise<Map<number, FormRecord>> {
  if (!ids.length) return new Map();
  const r = await ctx.client.execute({
    sql: 'SELECT id, name, definition FROM forms WHERE active = 1 AND id IN (SELECT value FROM json_each(?))',
    args: [JSON.stringify(ids)],
  });
  return new Map(r.rows.map((row) => [Number(row.id), { id: Number(row.id), name: String(row.name), active: true, ...(JSON.parse(String(row.definition)) as FormDefinition) }]));
}

async function siteOf(ctx: Ctx, id: number): Promise<SiteRecord | null> {
  try {
    return await getSite({ ctx, input: { id } });
  } catch {
    return null;
  }
}

/** A page rendered fresh (the published one, or a preview of any). Null when its site is gone. */
export async function renderFresh(ctx: Ctx, page: PageView, base: string, preview = false, ab?: RenderInput['ab']) {
  const site = await siteOf(ctx, page.site_id);
  if (!site) return null;
  const formIds = formIdsOf(page.sections);
  const forms = await activeForms(ctx, formIds);
  // A page with personalisation tokens gets a hole per token, filled per response.
  const tokens = protectPage(page);
  const template = renderPage({ page: tokens?.page ?? page, site, forms, base, canonical: canonicalUrl(base, page), preview, ab });
  const holes = tokens ? withTokenHoles(template, tokens) : { template, personal: false };
  return { template: holes.template, personal: holes.personal, formIds, site };
}

// The page and, beside it, what its rendering depends on besides itself: its (and its running
// A/B test's variants') forms' versions.
const PAGE_SQL = `SELECT p.*, (SELECT group_concat(f.id || ':' || f.updated_at || ':' || f.active) FROM forms f
  WHERE f.id IN (SELECT value FROM json_each(p.form_ids) UNION SELECT j.value FROM page_variants v, json_each(v.form_ids) j
  WHERE v.test_id = p.ab_test_id)) AS forms_version FROM pages p WHERE p.host = ? AND p.slug = ?`;

async function lookUp(ctx: Ctx, base: string, set: string, slug: string, previous: Lookup | undefined): Promise<Lookup> {
  const res = await ctx.client.execute({ sql: PAGE_SQL, args: [set, slug] });
  const row = res.rows[0];
  if (row && String(row.status) === 'published') {
    const version = `${Number(row.version)}|${String(row.forms_version ?? '')}`;
    if (previous?.kind === 'page' && previous.version === version) return previous;
    const page = view(row);
    const fresh = await renderFresh(ctx, page, base);
    if (!fresh) return { kind: 'missing' };
    const test = await testArms(ctx, page, fresh.site, (p, ab) => renderFresh(ctx, p, base, false, ab));
    return { kind: 'page', version, template: fresh.template, formIds: fresh.formIds, siteId: fresh.site.id, personal: fresh.personal, test };
  }
  if (row) return { kind: 'missing' };
  const r = await ctx.client.execute({
    sql: `SELECT p.host, p.slug FROM page_redirects r JOIN pages p ON p.id = r.page_id WHERE r.host = ? AND r.slug = ? AND p.status = 'published'`,
    args: [set, slug],
  });
  const to = r.rows[0];
  if (!to) return { kind: 'missing' };
  const host = String(to.host);
  // Same page set: a path on this host; moved to another host: its address there.
  return { kind: 'redirect', location: host === set ? `/p/${String(to.slug)}` : canonicalUrl(base, { host, slug: String(to.slug) }) };
}

/** What /p/{slug} answers for a host, from the cache while it is fresh. */
export async function publicPage(ctx: Ctx, input: { host: string; slug: string; base: string }): Promise<Lookup> {
  if (!SLUG_RE.test(input.slug)) return { kind: 'missing' };
  const set = await pageSetFor(ctx, input.host);
  const c = cacheOf(ctx);
  const key = entryKey(input.base, set, input.slug);
  const hit = c.entries.get(key);
  const now = ctx.now();
  if (hit && hit.checkedAt + FRESH_MS > now) return hit.lookup;
  const generation = c.generation;
  const lookup = await lookUp(ctx, input.base, set, input.slug, hit?.lookup);
  if (generation === c.generation) c.entries.set(key, { checkedAt: now, lookup });
  return lookup;
}

// The no-JS form's signed render time, per site and form, made again every second: a cached page
// carries a recent one, so a form's minimum fill time holds as it does on /f/{id}/embed.
const stampsByCtx = new WeakMap<Ctx, Map<string, { at: number; value: string }>>();
const STAMP_MS = 1_000;

/**
 * The HTML of one response: a fresh nonce, a submission id per form, recent stamps, and on a page
 * with tokens each token for this browser (`viewer`, from core/personalise/who.ts; defaults for null).
 */
export async function respond(ctx: Ctx, lookup: Extract<Lookup, { kind: 'page' }>, nonce: string, viewer: Viewer | null = null): Promise<string> {
  const now = ctx.now();
  let stamps = stampsByCtx.get(ctx);
  if (!stamps) stampsByCtx.set(ctx, (stamps = new Map()));
  const values = new Map<number, string>();
  let site: SiteRecord | null | undefined;
  for (const id of lookup.formIds) {
    const key = `${lookup.siteId}:${id}`;
    const s = stamps.get(key);
    if (s && s.at + STAMP_MS > now) {
      values.set(id, s.value);
      continue;
    }
    site ??= await siteOf(ctx, lookup.siteId);
    if (!site) continue;
    const value = await renderStamp(site, id, now);
    if (stamps.size > 10_000) stamps.clear();
    stamps.set(key, { at: now, value });
    values.set(id, value);
  }
  const token = lookup.personal ? (t: TokenRef) => tokenHtml(viewer?.values, t) : undefined;
  return fill(lookup.template, { nonce, sid: () => randomToken(24), stamp: (id) => values.get(id) ?? '', token });
}

/** The published pages of the request's page set, for /sitemap.xml. */
export async function sitemap(ctx: Ctx, input: { host: string; base: string }): Promise<string> {
  const set = await pageSetFor(ctx, input.host);
  const res = await ctx.client.execute({
    sql: "SELECT host, slug, updated_at FROM pages WHERE host = ? AND status = 'published' ORDER BY slug LIMIT 50000",
    args: [set],
  });
  return renderSitemap(res.rows.map((r) => ({ loc: canonicalUrl(input.base, { host: r.host ? String(r.host) : null, slug: String(r.slug) }), lastmod: iso(Number(r.updated_at))! })));
}
