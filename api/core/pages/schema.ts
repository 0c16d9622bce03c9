import { z } from 'zod';
import { HttpUrl } from '../focus/schema';

// A landing page as the API takes it: the head (slug, title, description, Open Graph image,
// language), which site's tag and forms it carries, which host's page set it belongs to, and a
// body of sections. Every string is bounded; URLs are absolute http(s) (or a path on the same
// host for links); user HTML and Markdown are stored as written and sanitised when rendered
// (core/pages/sanitise.ts), so a tightened policy applies to pages saved before it.

const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F\ufffd]/;
export const plain = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL.test(s), 'must be plain text without control characters');
export const label = (max: number) => plain(max).pipe(z.string().trim().min(1, 'must not be empty'));

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;
export const Slug = z.string().regex(SLUG_RE, 'must be 1–100 of a-z 0-9 and "-" (not first or last)');

/** A host name (no scheme, port or path), lower case. */
export const HOST_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
export const Host = z
  .string()
  .trim()
  .toLowerCase()
  .regex(HOST_RE, 'must be a host name such as pages.example.com (no scheme, port or path)');

/** An absolute http(s) URL, or a path on the page's own host ("/pricing", "#form"). */
export const LinkUrl = z.union([
  HttpUrl,
  z
    .string()
    .max(2048)
    .regex(/^(?:\/(?!\/)|#)[^\s\\\u0000-\u001F\u007F]*$/, 'must be an absolute http(s) URL, a path starting with "/", or "#anchor"'),
]);

export const FormId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const Markdown = z.strictObject({ type: z.literal('markdown'), markdown: plain(50_000) });
const Html = z.strictObject({ type: z.literal('html'), html: plain(100_000) });
const Image = z.strictObject({
  type: z.literal('image'),
  src: HttpUrl,
  alt: plain(300).default(''),
  width: z.number().int().min(1).max(10_000).optional(),
  height: z.number().int().min(1).max(10_000).optional(),
  link: LinkUrl.optional(),
});
/** A call-to-action's own id: what an A/B test's cta_click goal names (the same id in each variant). */
export const CtaId = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1–40 of A-Z a-z 0-9 _ -');

const Form = z.strictObject({ type: z.literal('form'), form_id: FormId, heading: plain(200).optional() });
const Cta = z.strictObject({
  type: z.literal('cta'),
  label: label(80),
  url: LinkUrl,
  style: z.enum(['primary', 'secondary']).default('primary'),
  id: CtaId.optional(),
});
const Hero = z.strictObject({
  type: z.literal('hero'),
  heading: label(200),
  subheading: plain(500).optional(),
  image: HttpUrl.optional(),
  image_alt: plain(300).default(''),
  cta: z.strictObject({ label: label(80), url: LinkUrl, id: CtaId.optional() }).optional(),
});

/** What a column may hold: any section but columns and heroes (nesting stops at one level). */
export const Leaf = z.discriminatedUnion('type', [Markdown, Html, Image, Form, Cta]);
export type Leaf = z.infer<typeof Leaf>;
const Columns = z.strictObject({
  type: z.literal('columns'),
  columns: z.array(z.array(Leaf).max(20)).min(2).max(4),
});

export const Section = z.discriminatedUnion('type', [Markdown, Html, Image, Form, Cta, Hero, Columns]);
export type Section = z.infer<typeof Section>;

export const MAX_SECTIONS = 50;

const fields = {
  site_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  host: Host.nullable().default(null),
  slug: Slug,
  title: label(200),
  description: plain(500).default(''),
  og_image: HttpUrl.nullable().default(null),
  language: z
    .string()
    .regex(/^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{1,8}){0,3}$/, 'must be a language tag such as en or pt-BR')
    .default('en'),
  sections: z.array(Section).max(MAX_SECTIONS).default([]),
};

export const PageInput = z.strictObject(fields);
export type PageInput = z.infer<typeof PageInput>;

/** An A/B test's goal: what counts as a conversion (core/pages/test-events.ts). */
export const AbGoal = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('form_submitted'), form_id: FormId.nullable().default(null) }),
  z.strictObject({ type: z.literal('cta_click'), cta_id: CtaId.nullable().default(null) }),
  z.strictObject({ type: z.literal('custom_event'), event_name: label(100) }),
]);
export type AbGoal = z.infer<typeof AbGoal>;

/** A page's A/B settings as PATCH /pages/{id} takes them (core/pages/ab-settings.ts). */
export const AbSettingsPatch = z.strictObject({
  goal: AbGoal.optional(),
  min_visitors: z.number().int().min(10).max(10_000_000).optional(),
  /** In percent. */
  confidence: z.number().min(80).max(99.9).optional(),
  auto_winner: z.boolean().optional(),
});
export type AbSettingsPatch = z.infer<typeof AbSettingsPatch>;

export const PagePatch = z.strictObject({
  site_id: fields.site_id.optional(),
  host: Host.nullable().optional(),
  slug: Slug.optional(),
  title: fields.title.optional(),
  description: plain(500).optional(),
  og_image: HttpUrl.nullable().optional(),
  language: fields.language.unwrap().optional(),
  sections: z.array(Section).max(MAX_SECTIONS).optional(),
  ab_test: AbSettingsPatch.optional(),
});
export type PagePatch = z.infer<typeof PagePatch>;

export const PreviewLinkInput = z.strictObject({
  expires_in: z.number().int().min(60).max(30 * 86_400).default(86_400),
  /** A variant of the page's running A/B test to show (0 or absent: the page itself). */
  variant_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** Every form id the sections embed, each once, in order of appearance. */
export function formIdsOf(sections: Section[]): number[] {
  const ids = new Set<number>();
  for (const s of sections) {
    if (s.type === 'form') ids.add(s.form_id);
    if (s.type === 'columns') for (const col of s.columns) for (const l of col) if (l.type === 'form') ids.add(l.form_id);
  }
  return [...ids];
}

/** Where each embedded form id sits, for 422 details naming the field. */
export function formIdFields(sections: Section[]): Map<number, string> {
  const out = new Map<number, string>();
  sections.forEach((s, i) => {
    if (s.type === 'form' && !out.has(s.form_id)) out.set(s.form_id, `sections.${i}.form_id`);
    if (s.type === 'columns')
      s.columns.forEach((col, j) =>
        col.forEach((l, k) => {
          if (l.type === 'form' && !out.has(l.form_id)) out.set(l.form_id, `sections.${i}.columns.${j}.${k}.form_id`);
        }),
      );
  });
  return out;
}
