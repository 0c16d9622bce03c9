import type { Ctx } from '../context';
import { ValidationError } from '../errors';
import { checkReferences, type PageView } from './pages';
import { renderFresh, respond } from './public';
import type { PageInput } from './schema';
import { pageAbTest } from './variants-schema';

// A draft page as /p/{slug}?preview= would show it once saved (POST /api/v1/pages/preview): the
// body of a create, checked as a save checks it (the same 422s, forms and tokens included), then
// rendered by the code the public page uses, as a preview (noindex), tokens filled with their
// defaults (no viewer). Nothing is stored: no page row, no cache entry, no version.

/** The page the draft would be once created: a draft with no id, version or test. */
function draftView(input: PageInput, now: number): PageView {
  const at = new Date(now).toISOString();
  return {
    id: 0,
    site_id: input.site_id,
    host: input.host ?? null,
    slug: input.slug,
    title: input.title,
    description: input.description,
    og_image: input.og_image,
    language: input.language,
    sections: input.sections,
    status: 'draft',
    version: 0,
    path: `/p/${input.slug}`,
    published_at: null,
    created_at: at,
    updated_at: at,
    ab_test: pageAbTest({}),
  };
}

/** The draft's HTML for one response (its CSP nonce `nonce`), or a 422 naming what a save would refuse. */
export async function previewDraft({ ctx, input }: { ctx: Ctx; input: { page: PageInput; base: string; nonce: string } }): Promise<string> {
  await checkReferences(ctx, input.page);
  const fresh = await renderFresh(ctx, draftView(input.page, ctx.now()), input.base, true);
  // The site was there a moment ago (checkReferences): deleted since.
  if (!fresh) throw new ValidationError([{ field: 'site_id', message: `no site with id ${input.page.site_id}` }]);
  const lookup = { kind: 'page', version: '', template: fresh.template, formIds: fresh.formIds, siteId: fresh.site.id, personal: fresh.personal } as const;
  return respond(ctx, lookup, input.nonce, null);
}
