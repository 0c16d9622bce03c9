// The focus item editor's draft: what the inputs hold, turned into the body the API takes
// (POST/PATCH /api/v1/focus-items and the preview). Numbers that are not numbers are sent as
// typed, for the server to refuse by name.
import type { components } from '../api/schema';
import { num } from '../forms/model';

type S = components['schemas'];
export type FocusItem = S['FocusItem'];
export type FocusInput = S['FocusItemInput'];
export type Style = FocusItem['style'];
export type StyleType = Style['type'];
export type Kind = FocusItem['content']['kind'];
export type TriggerType = FocusItem['trigger']['type'];
export type Targeting = FocusItem['targeting'];
export type UrlOp = Targeting['urls'][number]['op'];
export type Device = Targeting['devices'][number];
export type Frequency = FocusItem['frequency'];
export type Overrides = NonNullable<FocusInput['variants']>[number]['overrides'] & object;
export type Corner = 'bottom_right' | 'bottom_left' | 'top_right' | 'top_left';
export interface Colors {
  background: string;
  text: string;
  button: string;
}

export const DEFAULT_COLORS: Colors = { background: '#ffffff', text: '#1f2937', button: '#2563eb' };
export const STYLE_TYPES: [StyleType, string][] = [
  ['modal', 'Pop-up'],
  ['bar', 'Bar'],
  ['slide_in', 'Slide-in'],
  ['full_screen', 'Full screen'],
];
export const typeName = (t: string) => STYLE_TYPES.find(([v]) => v === t)?.[1] ?? t;
export const CORNERS: [Corner, string][] = [
  ['bottom_right', 'Bottom right'],
  ['bottom_left', 'Bottom left'],
  ['top_right', 'Top right'],
  ['top_left', 'Top left'],
];
export const KINDS: [Kind, string][] = [
  ['notice', 'A notice'],
  ['link', 'A link (call to action)'],
  ['form', 'A form'],
];
export const TRIGGERS: [TriggerType, string][] = [
  ['load', 'As the page loads'],
  ['delay', 'After some seconds'],
  ['scroll', 'After scrolling down'],
  ['exit_intent', 'When the visitor is about to leave (desktop)'],
  ['click', 'On a click on some element'],
  ['pageviews', 'From the visitor’s nth page view'],
];
export const URL_OPS: [UrlOp, string][] = [
  ['contains', 'contains'],
  ['starts_with', 'starts with'],
  ['equals', 'is'],
  ['regex', 'matches the pattern'],
];
export const DEVICES: [Device, string][] = [
  ['desktop', 'Desktop'],
  ['mobile', 'Mobile'],
  ['tablet', 'Tablet'],
];

let uid = 0;
export interface VariantDraft {
  uid: number;
  key: string;
  weight: string;
  /** As the API keeps them: only what the variant changes. */
  overrides: Overrides;
}
export interface Draft {
  name: string;
  site: string;
  active: boolean;
  type: StyleType;
  position: 'top' | 'bottom';
  sticky: boolean;
  corner: Corner;
  colors: Colors;
  kind: Kind;
  heading: string;
  body: string;
  cta_label: string;
  cta_url: string;
  form_id: string;
  trigger: TriggerType;
  seconds: string;
  percent: string;
  selector: string;
  count: string;
  urls: { uid: number; op: UrlOp; value: string }[];
  devices: Device[];
  visitor: Targeting['visitor'];
  identity: Targeting['identity'];
  segment_ids: number[];
  mode: Frequency['mode'];
  days: string;
  stop_after_conversion: boolean;
  stop_after_close: boolean;
  max_displays: string;
  variants: VariantDraft[];
}

const text = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

export const urlRule = (op: UrlOp = 'contains', value = '') => ({ uid: ++uid, op, value });
export const variantDraft = (key: string, weight: number | string, overrides: Overrides = {}): VariantDraft => ({ uid: ++uid, key, weight: String(weight), overrides });

export function draftOf(f: FocusItem | null): Draft {
  const s = f?.style;
  const c = f?.content;
  const t = f?.trigger;
  return {
    name: f?.name ?? '',
    site: text(f?.site_id),
    active: f?.active ?? true,
    type: s?.type ?? 'modal',
    position: s?.type === 'bar' ? s.position : 'top',
    sticky: s?.type === 'bar' ? s.sticky : true,
    corner: s?.type === 'slide_in' ? s.corner : 'bottom_right',
    colors: { ...(s?.colors ?? DEFAULT_COLORS) },
    kind: c?.kind ?? 'notice',
    heading: c ? c.heading : 'Get our newsletter',
    body: c?.body ?? '',
    cta_label: c?.kind === 'link' ? c.cta.label : '',
    cta_url: c?.kind === 'link' ? c.cta.url : '',
    form_id: c?.kind === 'form' ? String(c.form_id) : '',
    trigger: t?.type ?? 'load',
    seconds: t?.type === 'delay' ? String(t.seconds) : '5',
    percent: t?.type === 'scroll' ? String(t.percent) : '50',
    selector: t?.type === 'click' ? t.selector : '',
    count: t?.type === 'pageviews' ? String(t.count) : '3',
    urls: (f?.targeting.urls ?? []).map((u) => urlRule(u.op, u.value)),
    devices: f?.targeting.devices ?? [],
    visitor: f?.targeting.visitor ?? 'all',
    identity: f?.targeting.identity ?? 'all',
    segment_ids: f?.targeting.segment_ids ?? [],
    mode: f?.frequency.mode ?? 'once_per_session',
    days: text(f?.frequency.days),
    stop_after_conversion: f?.frequency.stop_after_conversion ?? true,
    stop_after_close: f?.frequency.stop_after_close ?? false,
    max_displays: text(f?.frequency.max_displays),
    variants: (f?.variants ?? []).map((v) => variantDraft(v.key, v.weight, v.overrides)),
  };
}

function styleOf(d: Draft): Style {
  const colors = d.colors;
  if (d.type === 'bar') return { type: 'bar', position: d.position, sticky: d.sticky, colors };
  if (d.type === 'slide_in') return { type: 'slide_in', corner: d.corner, colors };
  return { type: d.type, colors };
}

function contentOf(d: Draft): FocusItem['content'] {
  const base = { heading: d.heading, body: d.body };
  if (d.kind === 'link') return { kind: 'link', ...base, cta: { label: d.cta_label.trim(), url: d.cta_url.trim() } };
  if (d.kind === 'form') return { kind: 'form', ...base, form_id: num(d.form_id) as number };
  return { kind: 'notice', ...base };
}

function triggerOf(d: Draft): FocusItem['trigger'] {
  switch (d.trigger) {
    case 'delay':
      return { type: 'delay', seconds: num(d.seconds) as number };
    case 'scroll':
      return { type: 'scroll', percent: num(d.percent) as number };
    case 'click':
      return { type: 'click', selector: d.selector.trim() };
    case 'pageviews':
      return { type: 'pageviews', count: num(d.count) as number };
    default:
      return { type: d.trigger };
  }
}

/** Overrides without the parts left empty ("as the item"). */
function cleanOverrides(o: Overrides): Overrides {
  const out: Overrides = {};
  const content = Object.fromEntries(Object.entries(o.content ?? {}).filter(([, v]) => v !== undefined && v !== ''));
  const style = Object.fromEntries(Object.entries(o.style ?? {}).filter(([, v]) => v !== undefined && (v as unknown) !== ''));
  if (Object.keys(content).length) out.content = content;
  if (Object.keys(style).length) out.style = style;
  return out;
}

export function bodyOf(d: Draft): FocusInput {
  return {
    name: d.name.trim(),
    site_id: d.site ? Number(d.site) : null,
    active: d.active,
    style: styleOf(d),
    content: contentOf(d),
    trigger: triggerOf(d),
    targeting: {
      urls: d.urls.map((u) => ({ op: u.op, value: u.value.trim() })),
      devices: d.devices,
      visitor: d.visitor,
      identity: d.identity,
      segment_ids: d.segment_ids,
    },
    frequency: {
      mode: d.mode,
      days: d.mode === 'every_n_days' ? ((num(d.days) ?? null) as number | null) : null,
      stop_after_conversion: d.stop_after_conversion,
      stop_after_close: d.stop_after_close,
      max_displays: (num(d.max_displays) ?? null) as number | null,
    },
    variants: d.variants.map((v) => ({ key: v.key, weight: num(v.weight) as number, overrides: cleanOverrides(v.overrides) })),
  };
}

/** The next free variant key: a, b, c… */
export const nextKey = (vs: VariantDraft[]) => 'abcdefghij'.split('').find((k) => !vs.some((v) => v.key === k)) ?? 'z';
