import type { Ctx } from '../context';
import { AppError, NotFoundError } from '../errors';
import type { SiteRecord } from '../tracking/sites';
import { assetBySlug, type AssetRecord } from './assets';
import { EVENT } from '../spine/event-types';
import { storeHits, type Hit, type Ingestor } from '../tracking/ingest';
import { enqueueOr } from '../tracking/queue';

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
 * The asset_download event of a visitor (created if this is its first hit; through the visitor,
 * its contact), props { asset_id, slug }, as a hit: it takes the tracker's path into the
 * database (the group commit on Node, the tracking Queue on Workers), written once. The request
 * tells nothing of the device (a link followed from anywhere), so the visitor's stays as it was.
 */
export function downloadHit(ctx: Ctx, input: { siteId: number; uid: string; asset: AssetRecord; url: string | null }): Hit {
  return {
    siteId: input.siteId,
    uid: input.uid,
    at: ctx.now(),
    client: null,
    country: null,
    source: null,
    events: [{ type: EVENT.asset_download, url: input.url, props: { asset_id: input.asset.id, slug: input.asset.slug } }],
  };
}

/**
 * Stores a download (see downloadHit), or on Workers with a tracking Queue hands it over for
 * storing ('queued'). A Queue that does not take it costs the visitor nothing: the download is
 * written here instead, and the file is served all the same.
 */
export async function recordDownload(ctx: Ctx, ingestor: Ingestor, input: Parameters<typeof downloadHit>[1]): Promise<'stored' | 'queued'> {
  const hit = downloadHit(ctx, input);
  // Without a Queue, the ingestor writes it (the group commit on Node); past a refusing one, this request.
  return enqueueOr(ingestor, { hit }, () => (ingestor.enqueue ? storeHits(ctx, [hit]) : ingestor.add([hit])));
}
