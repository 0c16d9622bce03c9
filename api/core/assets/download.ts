import type { Ctx } from '../context';
import { AppError, NotFoundError } from '../errors';
import type { SiteRecord } from '../tracking/sites';
import { assetBySlug, type AssetRecord } from './assets';

/** The asset is gated and this visitor has not submitted the form yet. */
export class FormRequiredError extends AppError {
  constructor(readonly formId: number) {
    super('FORM_REQUIRED', `Submit form ${formId} to download this file.`, undefined, { form_id: formId });
  }
}

/**
 * Has this visitor (or the contact it is known as) submitted the form? A
 * contact who submitted it on another device has proven nothing to this
 * browser, but this browser is linked to that contact already, so it counts.
 */
export async function hasSubmitted(ctx: Ctx, input: { siteId: number; uid: string; formId: number }): Promise<boolean> {
  const res = await ctx.client.execute({
    sql: `SELECT 1 FROM visitors v JOIN form_submissions s
        ON s.form_id = ? AND (s.visitor_id = v.id OR (v.contact_id IS NOT NULL AND s.contact_id = v.contact_id))
      WHERE v.site_id = ? AND v.uid = ? LIMIT 1`,
    args: [input.formId, input.siteId, input.uid],
  });
  return res.rows.length > 0;
}

/** The asset behind a public link, once any gate is passed. */
export async function assetForDownload({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { slug: string; site: SiteRecord | null; uid: string | null };
}): Promise<AssetRecord> {
  const asset = await assetBySlug(ctx, input.slug);
  if (!asset) throw new NotFoundError('Asset');
  if (asset.gate_form_id !== null) {
    const ok = input.site && input.uid && (await hasSubmitted(ctx, { siteId: input.site.id, uid: input.uid, formId: asset.gate_form_id }));
    if (!ok) throw new FormRequiredError(asset.gate_form_id);
  }
  return asset;
}

/**
 * Stores an asset_download event for the visitor (created if this is its first
 * hit) and, through the visitor, its contact. props: { asset_id, slug }.
 */
export async function recordDownload(ctx: Ctx, input: { siteId: number; uid: string; asset: AssetRecord; url: string | null }): Promise<void> {
  const now = ctx.now();
  await ctx.client.batch(
    [
      {
        sql: `INSERT INTO visitors (site_id, uid, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
          ON CONFLICT(site_id, uid) DO UPDATE SET last_seen_at = max(visitors.last_seen_at, excluded.last_seen_at)`,
        args: [input.siteId, input.uid, now, now],
      },
      {
        sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, url, props, created_at)
          SELECT ?, v.id, v.contact_id, 'asset_download', ?, ?, ? FROM visitors v WHERE v.site_id = ? AND v.uid = ?`,
        args: [input.siteId, input.url, JSON.stringify({ asset_id: input.asset.id, slug: input.asset.slug }), now, input.siteId, input.uid],
      },
    ],
    'write',
  );
}
