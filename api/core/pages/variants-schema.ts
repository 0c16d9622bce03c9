import { z } from 'zod';
import { iso } from '../util/time';
import { label, MAX_SECTIONS, Section, type AbGoal } from './schema';

export { AbGoal, AbSettingsPatch } from './schema';

// A/B tests of landing pages as the API takes and shows them: the variants (own title and
// sections, a weight), the goal, the automatic winner's settings. The original page is the
// control, "variant 0" wherever a variant id is asked for or shown.

/** The original page, wherever a variant id is asked for or shown. */
export const CONTROL = 0;
/** Variants per test besides the original. */
export const MAX_VARIANTS = 9;

export interface AbSettings {
  goal: AbGoal;
  min_visitors: number;
  confidence: number;
  auto_winner: boolean;
}

export const DEFAULT_SETTINGS: AbSettings = {
  goal: { type: 'form_submitted', form_id: null },
  min_visitors: 500,
  confidence: 95,
  auto_winner: false,
};

export const settingsOf = (raw: unknown): AbSettings =>
  raw === null || raw === undefined ? DEFAULT_SETTINGS : { ...DEFAULT_SETTINGS, ...(JSON.parse(String(raw)) as Partial<AbSettings>) };

export interface AbWinner {
  test_id: number;
  variant_id: number;
  variant_name: string;
  picked_by: 'manual' | 'auto';
  picked_at: string;
}

/** What a page shows of its A/B testing (the `ab_test` field of a page). */
export interface PageAbTest extends AbSettings {
  /** The running test, null when none runs. */
  test_id: number | null;
  /** How the last test ended, null before one did. */
  last_winner: AbWinner | null;
}

export function pageAbTest(r: Record<string, unknown>): PageAbTest {
  return {
    ...settingsOf(r.ab_settings),
    test_id: r.ab_test_id === null || r.ab_test_id === undefined ? null : Number(r.ab_test_id),
    last_winner: r.ab_result ? (JSON.parse(String(r.ab_result)) as AbWinner) : null,
  };
}

const Weight = z.number().int().min(0).max(99);

export const VariantInput = z.strictObject({
  name: label(100),
  /** The page's title when left out. */
  title: label(200).optional(),
  /** A copy of the page's sections when left out. */
  sections: z.array(Section).max(MAX_SECTIONS).optional(),
  weight: Weight,
});
export type VariantInput = z.infer<typeof VariantInput>;

export const VariantPatch = z.strictObject({
  name: label(100).optional(),
  title: label(200).optional(),
  sections: z.array(Section).max(MAX_SECTIONS).optional(),
  weight: Weight.optional(),
});
export type VariantPatch = z.infer<typeof VariantPatch>;

export const WinnerInput = z.strictObject({ variant_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });

export interface VariantView {
  id: number;
  page_id: number;
  name: string;
  title: string;
  sections: Section[];
  weight: number;
  /** The original page: its content is the page's own (change it with PATCH /pages/{id}); its weight is what the variants leave. */
  control: boolean;
  created_at: string;
  updated_at: string;
}

export function variantView(r: Record<string, unknown>): VariantView {
  return {
    id: Number(r.id),
    page_id: Number(r.page_id),
    name: String(r.name),
    title: String(r.title),
    sections: JSON.parse(String(r.sections)) as Section[],
    weight: Number(r.weight),
    control: false,
    created_at: iso(Number(r.created_at))!,
    updated_at: iso(Number(r.updated_at))!,
  };
}

/** Every call-to-action id the sections carry (buttons and heroes' buttons, in columns too). */
export function ctaIdsOf(sections: Section[]): Set<string> {
  const ids = new Set<string>();
  for (const s of sections) {
    if (s.type === 'cta' && s.id) ids.add(s.id);
    if (s.type === 'hero' && s.cta?.id) ids.add(s.cta.id);
    if (s.type === 'columns') for (const col of s.columns) for (const l of col) if (l.type === 'cta' && l.id) ids.add(l.id);
  }
  return ids;
}
