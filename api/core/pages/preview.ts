import type { Ctx } from '../context';
import { ValidationError } from '../errors';
import { hmacSha256Hex, randomToken, timingSafeEqualHex } from '../util/crypto';
import { getPage, type PageView } from './pages';
import { canonicalUrl } from './public';

// Preview links: /p/{slug}?preview={page id}.{expiry in seconds}.{HMAC}, signed with SECRET (or,
// without one, a random key kept in the database on first use). Anyone holding the link sees the
// page as it is now, draft or not, until it expires; a changed id, expiry or signature is refused.

async function secretOf(ctx: Ctx): Promise<string> {
  if (ctx.config.SECRET) return ctx.config.SECRET;
  const r = await ctx.client.execute({
    sql: "INSERT INTO app_state (key, value) VALUES ('page_preview_secret', ?) ON CONFLICT(key) DO UPDATE SET value = value RETURNING value",
    args: [randomToken(43)],
  });
  return String(r.rows[0]!.value);
}

const mac = async (ctx: Ctx, id: number, exp: number) => (await hmacSha256Hex(await secretOf(ctx), `page-preview:${id}:${exp}`)).slice(0, 40);

export async function previewLink({ ctx, input }: { ctx: Ctx; input: { id: number; expires_in: number; base: string; variant_id?: number } }) {
  const page = await getPage({ ctx, input: { id: input.id } });
  const exp = Math.floor(ctx.now() / 1000) + input.expires_in;
  const token = `${page.id}.${exp}.${await mac(ctx, page.id, exp)}`;
  const variant = input.variant_id ? `&variant=${input.variant_id}` : '';
  if (variant && !(await variantOf(ctx, page, String(input.variant_id)))) {
    throw new ValidationError([{ field: 'variant_id', message: `no variant ${input.variant_id} in this page's running A/B test` }]);
  }
  return { url: `${canonicalUrl(input.base, page)}?preview=${token}${variant}`, token, expires_at: new Date(exp * 1000).toISOString() };
}

/** The page as variant `raw` of its running A/B test shows it (?variant= on a preview link), or null when it has no such variant. */
export async function variantOf(ctx: Ctx, page: PageView, raw: string): Promise<PageView | null> {
  if (!/^[1-9][0-9]{0,15}$/.test(raw) || page.ab_test.test_id === null) return null;
  const r = await ctx.client.execute({ sql: 'SELECT title, sections FROM page_variants WHERE id = ? AND test_id = ?', args: [Number(raw), page.ab_test.test_id] });
  const row = r.rows[0];
  return row ? { ...page, title: String(row.title), sections: JSON.parse(String(row.sections)) as PageView['sections'] } : null;
}

/** The page a preview token names, or why not: 'invalid' (tampered, cut, unknown page) or 'expired'. */
export async function pageForPreview(ctx: Ctx, token: string): Promise<PageView | 'invalid' | 'expired'> {
  const m = /^(\d{1,15})\.(\d{1,12})\.([0-9a-f]{40})$/.exec(token);
  if (!m) return 'invalid';
  const id = Number(m[1]);
  const exp = Number(m[2]);
  if (!timingSafeEqualHex(await mac(ctx, id, exp), m[3]!)) return 'invalid';
  if (exp * 1000 <= ctx.now()) return 'expired';
  try {
    return await getPage({ ctx, input: { id } });
  } catch {
    return 'invalid';
  }
}
