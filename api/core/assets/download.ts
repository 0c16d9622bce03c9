import type { Ctx } from '../context';
import { AppError, NotFoundError } from '../errors';
import type { SiteRecord } from '../tracking/sites';
import { assetBySlug, type AssetRecord } from './assets';
import { ensureVisitor } from '../tracking/visitors';
import { EVENT } from '../spine/event-types';

/** The asset is gated and this visitor has not submitted the form yet. */
export class FormRequiredError extends AppError {
  constructor(readonly formId: number) {
    super('FORM_REQUIRED', `Submit form ${formId} to download this file.`, undefined, { form_id: formId });
  }
}

/**
 * Has this visitor submitted the form, or the contact this browser has proven
 * it is (on another device, say)? A browser that only claimed a contact by
 * typing its email into some form unlocks nothing that contact unlocked.
 */
export async function hasSubmitted(ctx: Ctx, input: { siteId: number; uid: string; formId: number }): Promise<boolean> {
  const res = await ctx.client.execute({
    sql: `SELECT 1 FROM visitors v JOIN form_submissions s
        ON s.form_id = ? AND (s.visitor_id = v.id OR (v.proven_at IS NOT NULL AND s.contact_id = v.contact_id))
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
  const visitor = await ensureVisitor(ctx, input.siteId, input.uid, { seen: true });
  await ctx.client.execute({
    sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, url, props, created_at) VALUES (?, ?, ?, '${EVENT.asset_download}', ?, ?, ?)`,
    args: [input.siteId, visitor.id, visitor.contactId, input.url, JSON.stringify({ asset_id: input.asset.id, slug: input.asset.slug }), ctx.now()],
  });
}
