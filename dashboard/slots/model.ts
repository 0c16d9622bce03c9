// A slot as its editor holds it: the name the site's pages give it, and its rules top to bottom,
// each a condition and the content it shows (the API's variants, one per rule, named by their
// key). A content two rules share stays one variant; a variant no rule uses is kept as it is.
import type { components } from '../api/schema';

type S = components['schemas'];
export type Slot = S['Slot'];
export type SlotVariant = S['SlotVariant'];
export type SlotRule = S['SlotRule'];
export type SlotBody = S['SlotInput'];

export type Condition = 'segment' | 'stage' | 'known' | 'anonymous' | 'any' | 'filter';
export const CONDITIONS: [Condition, string][] = [
  ['segment', 'The contact is in a segment'],
  ['stage', 'The contact is at a stage'],
  ['known', 'Known contacts (proven browser)'],
  ['anonymous', 'Anonymous visitors'],
  ['any', 'Everyone'],
];

export interface RuleDraft {
  uid: number;
  condition: Condition;
  segment: string;
  stage: string;
  /** A filter other than one saved segment: kept as the API gave it (edited through the API). */
  filter: unknown;
  key: string;
  format: 'markdown' | 'html';
  content: string;
}

export interface SlotDraft {
  site_id: string;
  name: string;
  description: string;
  active: boolean;
  rules: RuleDraft[];
  /** Variants no rule shows, kept as they are. */
  unused: SlotVariant[];
}

let uid = 0;
export const nextUid = () => ++uid;

/** The first "content-N" no rule (nor kept variant) uses. */
export function freeKey(d: Pick<SlotDraft, 'rules' | 'unused'>): string {
  const taken = new Set([...d.rules.map((r) => r.key), ...d.unused.map((v) => v.key)]);
  for (let n = d.rules.length + 1; ; n++) if (!taken.has(`content-${n}`)) return `content-${n}`;
}

export const ruleDraft = (key: string, p: Partial<RuleDraft> = {}): RuleDraft => ({
  uid: nextUid(),
  condition: 'known',
  segment: '',
  stage: '',
  filter: null,
  key,
  format: 'markdown',
  content: '',
  ...p,
});

/** A saved segment as a rule names it: {"filter": {"segment": 12}} (member, the default). */
const segmentOf = (f: unknown): number | null => {
  if (!f || typeof f !== 'object') return null;
  const o = f as Record<string, unknown>;
  const keys = Object.keys(o);
  return typeof o.segment === 'number' && keys.every((k) => k === 'segment' || (k === 'member' && o.member === true)) ? o.segment : null;
};

function conditionOf(r: SlotRule): Pick<RuleDraft, 'condition' | 'segment' | 'stage' | 'filter'> {
  const w = r.when as Record<string, unknown>;
  if ('identity' in w) return { condition: w.identity as Condition, segment: '', stage: '', filter: null };
  if ('stage_id' in w) return { condition: 'stage', segment: '', stage: String(w.stage_id), filter: null };
  const seg = segmentOf(w.filter);
  return seg !== null ? { condition: 'segment', segment: String(seg), stage: '', filter: null } : { condition: 'filter', segment: '', stage: '', filter: w.filter };
}

export function draftOf(s: Slot | null, siteId = ''): SlotDraft {
  if (!s) return { site_id: siteId, name: '', description: '', active: true, rules: [ruleDraft('content-1')], unused: [] };
  const used = new Set(s.rules.map((r) => r.variant));
  return {
    site_id: String(s.site_id),
    name: s.name,
    description: s.description,
    active: s.active,
    rules: s.rules.map((r) => {
      const v = s.variants.find((x) => x.key === r.variant);
      return ruleDraft(r.variant, { ...conditionOf(r), format: v?.format ?? 'markdown', content: v?.content ?? '' });
    }),
    unused: s.variants.filter((v) => !used.has(v.key)),
  };
}

/** A number when the text is one; else the text, for the server to refuse by name. */
const num = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s) as number;

export function whenOf(r: RuleDraft): SlotRule['when'] {
  switch (r.condition) {
    case 'segment':
      return { filter: { segment: num(r.segment) } } as SlotRule['when'];
    case 'stage':
      return { stage_id: num(r.stage) };
    case 'filter':
      return { filter: r.filter } as SlotRule['when'];
    default:
      return { identity: r.condition };
  }
}

export function bodyOf(d: SlotDraft): SlotBody {
  const variants: SlotVariant[] = [];
  for (const r of d.rules) {
    const key = r.key.trim();
    if (!variants.some((v) => v.key === key)) variants.push({ key, format: r.format, content: r.content });
  }
  for (const v of d.unused) if (!variants.some((x) => x.key === v.key)) variants.push(v);
  return {
    site_id: num(d.site_id),
    name: d.name.trim(),
    description: d.description,
    active: d.active,
    variants,
    rules: d.rules.map((r) => ({ when: whenOf(r), variant: r.key.trim() })),
  };
}

export const fingerprint = (d: SlotDraft) => JSON.stringify(bodyOf(d));

/** The copy-paste snippet for the site's pages. */
export const snippetOf = (name: string, content: string) => `<div data-leadline-slot="${name.trim() || 'NAME'}">${content}</div>`;

/** "variants.2.content" → the rule showing that variant ("Rule 2, content"), for the server's errors. */
export function fieldLabel(field: string, body: SlotBody): string {
  const v = /^variants\.(\d+)\.?(.*)$/.exec(field);
  if (v) {
    const key = body.variants[Number(v[1])]?.key;
    const i = (body.rules ?? []).findIndex((r) => r.variant === key);
    return i >= 0 ? `Rule ${i + 1}, ${v[2] === 'key' ? 'content name' : v[2] || 'content'}` : `Content “${key}”`;
  }
  const r = /^rules\.(\d+)\.?(.*)$/.exec(field);
  if (r) return `Rule ${Number(r[1]) + 1}, ${r[2].startsWith('variant') ? 'content name' : 'condition'}`;
  return field.replace(/_/g, ' ');
}
