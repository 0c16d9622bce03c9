// The page editor's draft: the text the inputs hold, turned into the body the API takes (and the
// server judges: a width that is not a number is sent as typed, to be refused by name), and the
// error paths the editor shows next to their inputs.
import type { components } from '../api/schema';

export type Page = components['schemas']['Page'];
export type Section = components['schemas']['PageSection'];
type Columns = Extract<Section, { type: 'columns' }>;
export type Leaf = Columns['columns'][number][number];
export type LeafType = Leaf['type'];
export type SectionType = Section['type'];
export type Body = components['schemas']['PageInput'];

/** What each kind of section is called, in the order a marketer picks from. */
export const SECTION_LABELS: [SectionType, string][] = [
  ['hero', 'Hero'],
  ['markdown', 'Text (Markdown)'],
  ['html', 'HTML'],
  ['image', 'Image'],
  ['form', 'Form'],
  ['cta', 'Button (call to action)'],
  ['columns', 'Columns'],
];
/** Columns hold any section but columns and heroes. */
export const LEAF_LABELS = SECTION_LABELS.filter(([t]) => t !== 'hero' && t !== 'columns') as [LeafType, string][];
export const labelOf = (t: SectionType) => SECTION_LABELS.find(([x]) => x === t)?.[1] ?? t;

let uid = 0;
export const nextUid = () => ++uid;

/** Every input a leaf (a section that may sit in a column) has, as typed. */
export interface LeafDraft {
  uid: number;
  type: LeafType;
  /** Markdown or HTML source. */
  text: string;
  src: string;
  alt: string;
  width: string;
  height: string;
  link: string;
  form_id: string;
  heading: string;
  label: string;
  url: string;
  style: 'primary' | 'secondary';
  /** A button's own id: what an A/B test's "a button is clicked" goal names. */
  button_id: string;
}
export interface ColumnDraft {
  uid: number;
  items: LeafDraft[];
}
export interface SectionDraft extends Omit<LeafDraft, 'type'> {
  type: SectionType;
  subheading: string;
  image: string;
  image_alt: string;
  cta_label: string;
  cta_url: string;
  cta_id: string;
  columns: ColumnDraft[];
}
export interface Draft {
  site_id: string;
  host: string;
  slug: string;
  title: string;
  description: string;
  og_image: string;
  language: string;
  sections: SectionDraft[];
}

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export const leafDraft = (type: LeafType, l?: Partial<Record<string, unknown>>): LeafDraft => ({
  uid: nextUid(),
  type,
  text: str(l?.markdown ?? l?.html),
  src: str(l?.src),
  alt: str(l?.alt),
  width: str(l?.width),
  height: str(l?.height),
  link: str(l?.link),
  form_id: str(l?.form_id),
  heading: str(l?.heading),
  label: str(l?.label),
  url: str(l?.url),
  style: l?.style === 'secondary' ? 'secondary' : 'primary',
  button_id: l?.type === 'cta' ? str(l?.id) : '',
});

export const columnDraft = (items: LeafDraft[] = []): ColumnDraft => ({ uid: nextUid(), items });

export function sectionDraft(type: SectionType, s?: Section): SectionDraft {
  const any = (s ?? {}) as Partial<Record<string, unknown>>;
  const hero = s?.type === 'hero' ? s : undefined;
  return {
    ...leafDraft('markdown', any),
    type,
    subheading: str(hero?.subheading),
    image: str(hero?.image),
    image_alt: str(hero?.image_alt),
    cta_label: str(hero?.cta?.label),
    cta_url: str(hero?.cta?.url),
    cta_id: str(hero?.cta?.id),
    columns:
      s?.type === 'columns'
        ? s.columns.map((col) => columnDraft(col.map((l) => leafDraft(l.type, l as Partial<Record<string, unknown>>))))
        : type === 'columns'
          ? [columnDraft([leafDraft('markdown')]), columnDraft([leafDraft('markdown')])]
          : [],
  };
}

export const draftOf = (p: Page | null, siteId = ''): Draft => ({
  site_id: p ? String(p.site_id) : siteId,
  host: p?.host ?? '',
  slug: p?.slug ?? '',
  title: p?.title ?? '',
  description: p?.description ?? '',
  og_image: p?.og_image ?? '',
  language: p?.language ?? 'en',
  sections: p ? p.sections.map((s) => sectionDraft(s.type, s)) : [sectionDraft('hero'), sectionDraft('markdown')],
});

/** A number when the text is one; else the text, for the server to refuse by name. */
const num = (s: string) => (s.trim() === '' ? undefined : Number.isFinite(Number(s)) ? Number(s) : s) as number;
const opt = (s: string) => s.trim() || undefined;

function leafBody(l: LeafDraft): Leaf {
  switch (l.type) {
    case 'markdown':
      return { type: 'markdown', markdown: l.text };
    case 'html':
      return { type: 'html', html: l.text };
    case 'image':
      return { type: 'image', src: l.src.trim(), alt: l.alt.trim(), width: num(l.width), height: num(l.height), link: opt(l.link) };
    case 'form':
      return { type: 'form', form_id: num(l.form_id), heading: opt(l.heading) };
    case 'cta':
      return { type: 'cta', label: l.label.trim(), url: l.url.trim(), style: l.style, id: opt(l.button_id) };
  }
}

function sectionBody(s: SectionDraft): Section {
  if (s.type === 'hero') {
    const cta = s.cta_label.trim() || s.cta_url.trim() ? { label: s.cta_label.trim(), url: s.cta_url.trim(), id: opt(s.cta_id) } : undefined;
    return { type: 'hero', heading: s.heading.trim(), subheading: opt(s.subheading), image: opt(s.image), image_alt: s.image_alt.trim(), cta };
  }
  if (s.type === 'columns') return { type: 'columns', columns: s.columns.map((c) => c.items.map(leafBody)) };
  return leafBody({ ...s, type: s.type });
}

export function bodyOf(d: Draft): Body {
  return {
    site_id: num(d.site_id),
    host: d.host.trim() || null,
    slug: d.slug.trim(),
    title: d.title.trim(),
    description: d.description.trim(),
    og_image: d.og_image.trim() || null,
    language: d.language.trim(),
    sections: d.sections.map(sectionBody),
  };
}

/** The body as the server would compare it: what "unsaved changes" means. */
export const fingerprint = (d: Draft) => JSON.stringify(bodyOf(d));

/** The inputs each kind has, by the name the server uses in its error paths. */
export const FIELDS: Record<SectionType, string[]> = {
  markdown: ['markdown'],
  html: ['html'],
  image: ['src', 'alt', 'width', 'height', 'link'],
  form: ['form_id', 'heading'],
  cta: ['label', 'url', 'style', 'id'],
  hero: ['heading', 'subheading', 'image', 'image_alt', 'cta.label', 'cta.url', 'cta.id'],
  columns: ['columns'],
};

/** The head's inputs (each shows its own error). */
export const HEAD_FIELDS = ['site_id', 'host', 'slug', 'title', 'description', 'og_image', 'language'];

/**
 * The server's errors inside section `i` that no input shows (a wrong type, an unknown field):
 * listed in the section's card, so every error lands where the section is.
 */
export function strayErrors(fields: Record<string, string>, s: SectionDraft, i: number): [string, string][] {
  const at = `sections.${i}`;
  const shown = new Set(FIELDS[s.type].map((f) => `${at}.${f}`));
  s.columns.forEach((c, j) => c.items.forEach((l, k) => FIELDS[l.type].forEach((f) => shown.add(`${at}.columns.${j}.${k}.${f}`))));
  return Object.entries(fields).filter(([f]) => (f === at || f.startsWith(`${at}.`)) && !shown.has(f));
}

/** "sections.2.columns.1.0.type" as a person reads it: "Column 2, item 1: type". */
export function where(path: string): string {
  const m = /^sections\.\d+\.?(?:columns\.(\d+)\.?(?:(\d+)\.?)?)?(.*)$/.exec(path);
  if (!m) return path;
  const [, col, item, rest] = m;
  const parts = [col !== undefined ? `Column ${Number(col) + 1}` : '', item !== undefined ? `item ${Number(item) + 1}` : '', rest?.replace(/[._]/g, ' ') ?? ''];
  return parts.filter(Boolean).join(', ') || 'this section';
}
