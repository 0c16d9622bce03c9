import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import {
  AssetMeta,
  AssetPatch,
  createAsset,
  deleteAsset,
  getAsset,
  listAssets,
  publicAsset,
  updateAsset,
  type UploadInput,
} from '../../core/assets/assets';
import { assetForDownload, FormRequiredError, recordDownload } from '../../core/assets/download';
import type { Ingestor } from '../../core/tracking/ingest';
import { contentDisposition, MAX_ASSET_BYTES, servedInline } from '../../core/assets/files';
import type { AssetStorage } from '../../core/assets/storage';
import { AppError, BadRequestError, NotFoundError, ValidationError, zodErrors } from '../../core/errors';
import { requireSite, SITE_KEY, VISITOR_ID } from '../../core/tracking/site-access';
import { errorResponse } from '../errors';
import { cleanText } from '../../core/util/text';
import { Timestamp, DeletedSchema, errors, IdParam, json, jsonBody, page, PageQuery, security, type AppEnv } from '../shared';

const tags = ['Assets'];

const Asset = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    title: z.string(),
    filename: z.string(),
    content_type: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    gate_form_id: z.number().int().nullable().openapi({ description: 'Downloads need a submission of this form by the same visitor' }),
    is_sample: z.boolean(),
    url: z.string().openapi({ format: 'uri-reference', description: 'The public download link, /a/<slug> (absolute when PUBLIC_URL is set)' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Asset');

const UploadQuery = z.object({
  filename: z.string().max(1000).optional().openapi({ description: 'Raw uploads: the file name (required there)' }),
  title: z.string().max(1000).optional(),
  slug: z.string().max(200).optional(),
  gate_form_id: z.string().max(20).optional(),
});

function noStorage(): never {
  throw new AppError('STORAGE_UNAVAILABLE', 'No file storage is configured (on Workers, bind an R2 bucket as ASSETS).');
}

const META_FIELDS = ['title', 'slug', 'gate_form_id'] as const;

/** The upload's metadata from multipart fields or query parameters, checked by the core schema. */
function parseMeta(raw: Partial<Record<(typeof META_FIELDS)[number], string>>): z.infer<typeof AssetMeta> {
  const meta: Record<string, unknown> = {};
  if (raw.title !== undefined && raw.title !== '') meta.title = raw.title;
  if (raw.slug !== undefined && raw.slug !== '') meta.slug = raw.slug;
  if (raw.gate_form_id !== undefined && raw.gate_form_id !== '') {
    if (!/^\d{1,15}$/.test(raw.gate_form_id)) throw new ValidationError([{ field: 'gate_form_id', message: 'must be a form id' }]);
    meta.gate_form_id = Number(raw.gate_form_id);
  }
  const parsed = AssetMeta.safeParse(meta);
  if (!parsed.success) throw new ValidationError(zodErrors(parsed.error));
  return parsed.data;
}

async function readUpload(c: Context<AppEnv>, query: z.infer<typeof UploadQuery>): Promise<UploadInput> {
  const type = c.req.header('content-type') ?? '';
  if (/^multipart\/form-data/i.test(type)) {
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch {
      throw new BadRequestError('The multipart body could not be read.');
    }
    const fields: Record<string, string> = {};
    let file: File | null = null;
    for (const [name, value] of form.entries()) {
      if (name === 'file') {
        if (typeof value === 'string' || file) throw new ValidationError([{ field: 'file', message: 'must be exactly one file' }]);
        file = value;
      } else if ((META_FIELDS as readonly string[]).includes(name) && typeof value === 'string' && !(name in fields)) {
        fields[name] = cleanText(value);
      } else {
        throw new ValidationError([{ field: name, message: 'unknown field' }]);
      }
    }
    if (!file) throw new ValidationError([{ field: 'file', message: 'is required' }]);
    if (file.size > MAX_ASSET_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `Files are limited to ${MAX_ASSET_BYTES} bytes.`);
    return {
      ...parseMeta({ ...query, ...fields }),
      bytes: new Uint8Array(await file.arrayBuffer()),
      filename: cleanText(file.name),
      contentType: file.type,
    };
  }
  if (/^application\/x-www-form-urlencoded/i.test(type)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data, or as the raw body with ?filename=.');
  }
  if (!query.filename) throw new ValidationError([{ field: 'filename', message: 'is required for a raw upload (?filename=report.pdf)' }]);
  return {
    ...parseMeta(query),
    bytes: new Uint8Array(await c.req.arrayBuffer()),
    filename: query.filename,
    contentType: type,
  };
}

export function assetsApiRoutes(deps: { storage?: AssetStorage }) {
  const storage = () => deps.storage ?? noStorage();
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: 'post',
        path: '/api/v1/assets',
        operationId: 'uploadAsset',
        tags,
        security,
        summary: 'Upload a file',
        description:
          'multipart/form-data with `file` and optional `title`, `slug` and `gate_form_id`; or the raw file as the body, its type as Content-Type, with ?filename= (and optional title, slug, gate_form_id). At most 25 MB. The declared type is stored; HTML, SVG, XML and other types a browser could run are served as attachments. Without a slug one is made from the title.',
        request: {
          query: UploadQuery,
          body: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: {
                    file: { type: 'string', format: 'binary' },
                    title: { type: 'string', maxLength: 200 },
                    slug: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$' },
                    gate_form_id: { type: 'integer' },
                  },
                },
              },
              'application/octet-stream': { schema: { type: 'string', format: 'binary', description: 'Any type: the raw file' } },
            },
          },
        },
        responses: { 201: json(Asset, 'Stored'), ...errors(409, 415, 503) },
      }),
      async (c) => {
        const store = storage();
        const input = await readUpload(c, c.req.valid('query'));
        return c.json(publicAsset(await createAsset({ ctx: c.get('ctx'), storage: store, input })), 201);
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/v1/assets',
        operationId: 'listAssets',
        tags,
        security,
        summary: 'List assets',
        request: { query: PageQuery },
        responses: { 200: json(page(Asset, 'AssetPage'), 'A page of assets'), ...errors() },
      }),
      async (c) => c.json(await listAssets({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/api/v1/assets/{id}',
        operationId: 'getAsset',
        tags,
        security,
        summary: 'Get an asset',
        request: { params: IdParam },
        responses: { 200: json(Asset, 'The asset'), ...errors(404) },
      }),
      async (c) => c.json(publicAsset(await getAsset({ ctx: c.get('ctx'), input: c.req.valid('param') })), 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/api/v1/assets/{id}',
        operationId: 'updateAsset',
        tags,
        security,
        summary: 'Update an asset',
        description: 'Title, slug (the old link stops working), served file name, gate form (null: no gate). To replace the file, upload a new asset.',
        request: { params: IdParam, body: jsonBody(AssetPatch.openapi('AssetPatch')) },
        responses: { 200: json(Asset, 'Updated'), ...errors(404, 409, 415) },
      }),
      async (c) =>
        c.json(publicAsset(await updateAsset({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, patch: c.req.valid('json') } })), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/api/v1/assets/{id}',
        operationId: 'deleteAsset',
        tags,
        security,
        summary: 'Delete an asset',
        description: 'Removes the record and the stored file; download events stay in the log.',
        request: { params: IdParam },
        responses: { 200: json(DeletedSchema, 'Deleted'), ...errors(404, 503) },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        await deleteAsset({ ctx: c.get('ctx'), storage: storage(), input: { id } });
        return c.json({ id, deleted: true as const }, 200);
      },
    );
}


/**
 * GET /a/:slug?k=SITE_KEY&v=VISITOR_ID — the file, with an asset_download
 * event for the visitor when k and v are given. A gated asset is served only
 * to a visitor who submitted its form; others get 403 FORM_REQUIRED (JSON), or
 * browsers (Accept: text/html) a 303 to the form's no-JS page
 * /f/<form>/embed?k=…&v=…&return=<absolute URL of this download>.
 */
export function assetsPublicRoutes(deps: { storage?: AssetStorage; ingestor: Ingestor }) {
  const app = new Hono<AppEnv>();

  app.get('/a/:slug', async (c) => {
    const ctx = c.get('ctx');
    c.header('X-Content-Type-Options', 'nosniff');
    const slug = c.req.param('slug');
    const k = c.req.query('k') || undefined;
    const uid = c.req.query('v') || null;
    const bad = [
      ...(k !== undefined && !SITE_KEY.safeParse(k).success ? [{ field: 'k', message: 'must be a site key' }] : []),
      ...(uid !== null && !VISITOR_ID.safeParse(uid).success ? [{ field: 'v', message: 'must be a visitor id (16–64 of A-Z a-z 0-9 _ -)' }] : []),
    ];
    if (bad.length) throw new ValidationError(bad);
    // A download link is followed from anywhere: only the key is checked, not the origin.
    const site = k ? await requireSite(ctx, k) : null;
    if (!deps.storage) noStorage();

    let asset;
    try {
      asset = await assetForDownload({ ctx, input: { slug, site, uid } });
    } catch (e) {
      if (!(e instanceof FormRequiredError)) throw e;
      c.header('Cache-Control', 'no-store');
      if (site && k && /text\/html/i.test(c.req.header('accept') ?? '')) {
        const base = (ctx.config.PUBLIC_URL ?? new URL(c.req.url).origin).replace(/\/+$/, '');
        const back = new URL(`${base}/a/${slug}`);
        back.searchParams.set('k', k);
        if (uid) back.searchParams.set('v', uid);
        const form = new URL(`${base}/f/${e.formId}/embed`);
        form.searchParams.set('k', k);
        if (uid) form.searchParams.set('v', uid);
        form.searchParams.set('return', back.href);
        return c.redirect(form.href, 303);
      }
      return errorResponse(c, e);
    }

    const etag = `"${asset.sha256}"`;
    const headers: Record<string, string> = {
      'Content-Type': asset.content_type,
      'Content-Disposition': contentDisposition(servedInline(asset.content_type) ? 'inline' : 'attachment', asset.filename),
      ETag: etag,
      // Revalidated every time, so each download is seen (and a gate is re-checked).
      'Cache-Control': asset.gate_form_id === null ? 'private, no-cache' : 'private, no-store',
    };
    const head = c.req.method === 'HEAD';
    const track = async () => {
      if (head || !site || !uid) return;
      const how = await recordDownload(ctx, deps.ingestor, { siteId: site.id, uid, asset, url: `${new URL(c.req.url).origin}/a/${asset.slug}` });
      // The Queue's consumer kicks the reactions once the download is written.
      if (how === 'queued') c.set('queued', true);
    };
    const match = c.req.header('if-none-match');
    if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      await track();
      return c.body(null, 304, { ETag: etag, 'Cache-Control': headers['Cache-Control']! });
    }
    if (head) return c.body(null, 200, { ...headers, 'Content-Length': String(asset.size) });
    const object = await deps.storage!.get(asset.storage_key);
    if (!object) {
      ctx.log.error('asset bytes missing from storage', { asset_id: asset.id, key: asset.storage_key });
      throw new NotFoundError('Asset');
    }
    await track();
    return c.body(object.body as ReadableStream | Uint8Array<ArrayBuffer>, 200, { ...headers, 'Content-Length': String(object.size) });
  });

  return app;
}
