import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, isUniqueViolation, NotFoundError, ValidationError, zodErrors, type FieldError } from '../errors';
import { decodeCursor, toPage, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { pagesChanged } from './cache';
import { pageTokenErrors } from '../personalise/page';
import { formIdFields, formIdsOf, PageInput, type PagePatch, type Section } from './schema';
import { abSettingsStatements, testDeleteStatements } from './ab-settings';
import { pageAbTest, type PageAbTest } from './variants-schema';

// Landing pages: create, read, list, change, publish, unpublish, delete. Every write bumps the
// page's version and clears this process's rendered-page cache (core/pages/cache.ts), so the
// next request for the page renders what was just saved. A slug (or host) change keeps the old
// address as a redirect to the page.

export interface PageView {
  id: number;
  site_id: number;
  host: string | null;
  slug: string;
  title: string;
  description: string;
  og_image: string | null;
  language: string;
  sections: Section[];
  status: 'draft' | 'published';
  version: number;
  /** The page's address: /p/{slug} on its host (relative to this server when it has none). */
  path: string;
  published_at: string | null;
  created_at: string;
  updated_at: string;
  /** A/B testing: the goal and winner settings, the running test, how the last one ended (core/pages/variants.ts). */
  ab_test: PageAbTest;
}

export function view(r: Row): PageView {
  return {
    id: Number(r.id),
    site_id: Number(r.site_id),
    host: r.host ? String(r.host) : null,
    slug: String(r.slug),
    title: String(r.title),
    description: String(r.description),
    og_image: r.og_image === null ? null : String(r.og_image),
    language: String(r.language),
    sections: JSON.parse(String(r.sections)) as Section[],
    status: String(r.status) === 'published' ? 'published' : 'draft',
    version: Number(r.version),
    path: `/p/${String(r.slug)}`,
    published_at: iso(r.published_at === null ? null : Number(r.published_at)),
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
    ab_test: pageAbTest(r),
  };
}

/** What only the database can tell: the site and the embedded forms exist, the personalisation tokens name fields that do. */
export async function checkReferences(ctx: Ctx, input: PageInput): Promise<void> {
  const fields = formIdFields(input.sections);
  const [sites, forms] = await ctx.client.batch(
    [
      { sql: 'SELECT id FROM sites WHERE id = ?', args: [input.site_id] },
      { sql: 'SELECT id FROM forms WHERE id IN (SELECT value FROM json_each(?))', args: [JSON.stringify([...fields.keys()])] },
    ],
    'read',
  );
  const out: FieldError[] = [];
  if (!sites!.rows.length) out.push({ field: 'site_id', message: `no site with id ${input.site_id}` });
  const found = new Set(forms!.rows.map((r) => Number(r.id)));
  for (const [id, field] of fields) if (!found.has(id)) out.push({ field, message: `no form with id ${id}` });
  out.push(...(await pageTokenErrors(ctx, input)));
  if (out.length) throw new ValidationError(out);
}

const duplicate = (host: string, slug: string) =>
  new ConflictError(`A page with the slug "${slug}" already exists${host ? ` for ${host}` : ''}: choose another slug.`);

export async function createPage({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<PageView> {
  await checkReferences(ctx, input);
  const now = ctx.now();
  const host = input.host ?? '';
  let res;
  try {
    [res] = await ctx.client.batch(
      [
        {
          sql: `INSERT INTO pages (site_id, host, slug, title, description, og_image, language, sections, form_ids, status, version, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', 1, ?, ?) RETURNING *`,
          args: [input.site_id, host, input.slug, input.title, input.description, input.og_image, input.language, JSON.stringify(input.sections), JSON.stringify(formIdsOf(input.sections)), now, now],
        },
        // A new page takes over a slug another page used to have.
        { sql: 'DELETE FROM page_redirects WHERE host = ? AND slug = ?', args: [host, input.slug] },
      ],
      'write',
    );
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(host, input.slug);
    throw e;
  }
  pagesChanged(ctx);
  return view(res!.rows[0]!);
}

export async function getPage({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<PageView> {
  const res = await ctx.client.execute({ sql: 'SELECT * FROM pages WHERE id = ?', args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Page');
  return view(res.rows[0]);
}

export async function listPages({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { limit: number; cursor?: string; site_id?: number; status?: 'draft' | 'published' };
}): Promise<Page<PageView>> {
  const where = ['id > ?'];
  const args: (number | string)[] = [input.cursor ? decodeCursor(input.cursor)[1] : 0];
  if (input.site_id !== undefined) where.push('site_id = ?'), args.push(input.site_id);
  if (input.status !== undefined) where.push('status = ?'), args.push(input.status);
  const res = await ctx.client.execute({ sql: `SELECT * FROM pages WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(res.rows, input.limit, (r) => [null, Number(r.id)], view);
}

export async function updatePage({ ctx, input }: { ctx: Ctx; input: { id: number; patch: PagePatch } }): Promise<PageView> {
  if (!Object.keys(input.patch).length) throw new ValidationError('Nothing to change.');
  const { ab_test, ...patch } = input.patch;
  const current = await getPage({ ctx, input: { id: input.id } });
  const { site_id, host, slug, title, description, og_image, language, sections } = current;
  const parsed = PageInput.safeParse({ site_id, host, slug, title, description, og_image, language, sections, ...patch });
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  const next = parsed.data;
  await checkReferences(ctx, next);
  const abStatements = ab_test ? await abSettingsStatements(ctx, current, ab_test, next.sections) : [];
  const oldHost = current.host ?? '';
  const newHost = next.host ?? '';
  const moved = oldHost !== newHost || current.slug !== next.slug;
  const now = ctx.now();
  let res;
  try {
    const results = await ctx.client.batch(
      [
        {
          sql: `UPDATE pages SET site_id = ?, host = ?, slug = ?, title = ?, description = ?, og_image = ?, language = ?, sections = ?, form_ids = ?,
            version = version + 1, updated_at = ? WHERE id = ? RETURNING *`,
          args: [next.site_id, newHost, next.slug, next.title, next.description, next.og_image, next.language, JSON.stringify(next.sections), JSON.stringify(formIdsOf(next.sections)), now, input.id],
        },
        // The new address is the page's own now; the old one (when it moved) leads to it.
        { sql: 'DELETE FROM page_redirects WHERE host = ? AND slug = ?', args: [newHost, next.slug] },
        ...(moved
          ? [
              {
                sql: 'INSERT INTO page_redirects (host, slug, page_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (host, slug) DO UPDATE SET page_id = excluded.page_id, created_at = excluded.created_at',
                args: [oldHost, current.slug, input.id, now],
              },
            ]
          : []),
        ...abStatements,
      ],
      'write',
    );
    res = results[0]!;
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(newHost, next.slug);
    throw e;
  }
  if (!res.rows[0]) throw new NotFoundError('Page');
  pagesChanged(ctx);
  return abStatements.length ? getPage({ ctx, input: { id: input.id } }) : view(res.rows[0]);
}

/** Publishes (visible at /p/{slug}, listed in the sitemap) or unpublishes (back to a draft: 404 publicly). */
export async function setPublished({ ctx, input }: { ctx: Ctx; input: { id: number; published: boolean } }): Promise<PageView> {
  const now = ctx.now();
  const res = await ctx.client.execute({
    sql: `UPDATE pages SET status = ?, published_at = CASE WHEN ? THEN COALESCE(published_at, ?) ELSE published_at END,
      version = version + 1, updated_at = ? WHERE id = ? RETURNING *`,
    args: [input.published ? 'published' : 'draft', input.published ? 1 : 0, now, now, input.id],
  });
  if (!res.rows[0]) throw new NotFoundError('Page');
  pagesChanged(ctx);
  return view(res.rows[0]);
}

export async function deletePage({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const [res] = await ctx.client.batch(
    [
      { sql: 'DELETE FROM pages WHERE id = ?', args: [input.id] },
      { sql: 'DELETE FROM page_redirects WHERE page_id = ?', args: [input.id] },
      ...testDeleteStatements(input.id),
    ],
    'write',
  );
  if (!res!.rowsAffected) throw new NotFoundError('Page');
  pagesChanged(ctx);
}
