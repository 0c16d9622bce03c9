import { z } from 'zod';
import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, isUniqueViolation, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors';
import { randomToken, toHex } from '../util/crypto';
import { decodeCursor, toPage, type Page } from '../util/cursor';
import { iso } from '../util/time';
import { cleanContentType, cleanFilename, MAX_ASSET_BYTES, SLUG_RE, slugify } from './files';
import { newStorageKey, type AssetStorage } from './storage';

const Slug = z.string().trim().regex(SLUG_RE, 'must be 1–80 of a–z, 0–9 and "-", not starting or ending with "-"');
const GateFormId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable();

/** What may come with an upload besides the bytes (multipart fields or query parameters). */
export const AssetMeta = z.strictObject({
  title: z.string().trim().min(1).max(200).optional(),
  slug: Slug.optional(),
  gate_form_id: GateFormId.optional(),
  is_sample: z.boolean().optional(),
});
export type AssetMeta = z.infer<typeof AssetMeta>;

export const AssetPatch = z.strictObject({
  title: z.string().trim().min(1).max(200).optional(),
  slug: Slug.optional(),
  filename: z.string().max(1000).optional(),
  gate_form_id: GateFormId.optional(),
  is_sample: z.boolean().optional(),
});
export type AssetPatch = z.infer<typeof AssetPatch>;

export interface Asset {
  id: number;
  slug: string;
  title: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  gate_form_id: number | null;
  is_sample: boolean;
  /** The public download link (absolute when PUBLIC_URL is configured). */
  url: string;
  created_at: string;
  updated_at: string;
}

export interface AssetRecord extends Asset {
  storage_key: string;
}

function record(ctx: Ctx, r: Row): AssetRecord {
  const slug = String(r.slug);
  return {
    id: Number(r.id),
    slug,
    title: String(r.title),
    filename: String(r.filename),
    content_type: String(r.content_type),
    size: Number(r.size),
    sha256: String(r.sha256),
    gate_form_id: r.gate_form_id === null ? null : Number(r.gate_form_id),
    is_sample: Number(r.is_sample) === 1,
    url: `${(ctx.config.PUBLIC_URL ?? '').replace(/\/+$/, '')}/a/${slug}`,
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
    storage_key: String(r.storage_key),
  };
}

export function publicAsset({ storage_key: _key, ...asset }: AssetRecord): Asset {
  return asset;
}

async function checkGateForm(ctx: Ctx, formId: number | null | undefined) {
  if (formId === null || formId === undefined) return;
  const res = await ctx.client.execute({ sql: 'SELECT 1 FROM forms WHERE id = ?', args: [formId] });
  if (!res.rows[0]) throw new ValidationError([{ field: 'gate_form_id', message: `no form with id ${formId}` }]);
}

function withoutExtension(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return (dot > 0 ? filename.slice(0, dot) : filename).slice(0, 200) || filename;
}

export interface UploadInput extends AssetMeta {
  bytes: Uint8Array;
  filename: string;
  contentType: string | null;
}

/**
 * Stores the bytes, then the row. A slug that was asked for and is taken is a
 * conflict; a generated one gets a random suffix. If the row cannot be
 * written, the stored bytes are removed again.
 */
export async function createAsset({ ctx, storage, input }: { ctx: Ctx; storage: AssetStorage; input: UploadInput }): Promise<AssetRecord> {
  if (input.bytes.byteLength === 0) throw new ValidationError([{ field: 'file', message: 'is empty' }]);
  if (input.bytes.byteLength > MAX_ASSET_BYTES) throw new PayloadTooLargeError(MAX_ASSET_BYTES);
  const filename = cleanFilename(input.filename);
  const contentType = cleanContentType(input.contentType);
  await checkGateForm(ctx, input.gate_form_id);
  const title = input.title ?? withoutExtension(filename);
  const sha256 = toHex(await crypto.subtle.digest('SHA-256', input.bytes as Uint8Array<ArrayBuffer>));
  const key = newStorageKey();
  await storage.put(key, input.bytes, contentType);
  try {
    const base = input.slug ?? slugify(title);
    for (let attempt = 0; ; attempt++) {
      const slug = attempt === 0 ? base : `${base.slice(0, 70)}-${randomToken(6).toLowerCase()}`;
      const now = ctx.now();
      try {
        const res = await ctx.client.execute({
          sql: `INSERT INTO assets (slug, title, filename, content_type, size, sha256, storage_key, gate_form_id, is_sample, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          args: [slug, title, filename, contentType, input.bytes.byteLength, sha256, key, input.gate_form_id ?? null, input.is_sample ? 1 : 0, now, now],
        });
        return record(ctx, res.rows[0]!);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        if (input.slug !== undefined) throw new ConflictError(`The slug "${input.slug}" is taken by another asset.`);
        if (attempt >= 4) throw e;
      }
    }
  } catch (e) {
    await storage.delete(key).catch(() => undefined);
    throw e;
  }
}

export async function getAsset({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<AssetRecord> {
  const res = await ctx.client.execute({ sql: 'SELECT * FROM assets WHERE id = ?', args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Asset');
  return record(ctx, res.rows[0]);
}

export async function assetBySlug(ctx: Ctx, slug: string): Promise<AssetRecord | null> {
  if (!SLUG_RE.test(slug)) return null;
  const res = await ctx.client.execute({ sql: 'SELECT * FROM assets WHERE slug = ?', args: [slug] });
  return res.rows[0] ? record(ctx, res.rows[0]) : null;
}

export async function listAssets({ ctx, input }: { ctx: Ctx; input: { limit: number; cursor?: string } }): Promise<Page<Asset>> {
  const after = input.cursor ? decodeCursor(input.cursor)[1] : 0;
  const res = await ctx.client.execute({ sql: 'SELECT * FROM assets WHERE id > ? ORDER BY id LIMIT ?', args: [after, input.limit + 1] });
  return toPage(res.rows, input.limit, (r) => [null, Number(r.id)], (r) => publicAsset(record(ctx, r)));
}

export async function updateAsset({ ctx, input }: { ctx: Ctx; input: { id: number; patch: AssetPatch } }): Promise<AssetRecord> {
  const p = input.patch;
  const sets: string[] = [];
  const args: (string | number | null)[] = [];
  if (p.title !== undefined) sets.push('title = ?'), args.push(p.title);
  if (p.slug !== undefined) sets.push('slug = ?'), args.push(p.slug);
  if (p.filename !== undefined) sets.push('filename = ?'), args.push(cleanFilename(p.filename));
  if (p.gate_form_id !== undefined) {
    await checkGateForm(ctx, p.gate_form_id);
    sets.push('gate_form_id = ?'), args.push(p.gate_form_id);
  }
  if (p.is_sample !== undefined) sets.push('is_sample = ?'), args.push(p.is_sample ? 1 : 0);
  if (!sets.length) throw new ValidationError('Nothing to change.');
  try {
    const res = await ctx.client.execute({
      sql: `UPDATE assets SET ${sets.join(', ')}, updated_at = ? WHERE id = ? RETURNING *`,
      args: [...args, ctx.now(), input.id],
    });
    if (!res.rows[0]) throw new NotFoundError('Asset');
    return record(ctx, res.rows[0]);
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError(`The slug "${p.slug}" is taken by another asset.`);
    throw e;
  }
}

/** Removes the row, then the bytes (download events stay in the log). */
export async function deleteAsset({ ctx, storage, input }: { ctx: Ctx; storage: AssetStorage; input: { id: number } }): Promise<void> {
  const res = await ctx.client.execute({ sql: 'DELETE FROM assets WHERE id = ? RETURNING storage_key', args: [input.id] });
  if (!res.rows[0]) throw new NotFoundError('Asset');
  const key = String(res.rows[0].storage_key);
  try {
    await storage.delete(key);
  } catch (e) {
    // The row is gone, so nothing serves the bytes; an operator can sweep them.
    ctx.log.error('asset bytes could not be deleted', { key, error: e instanceof Error ? e.message : String(e) });
  }
}
