import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { iso } from '../util/time';
import { CONTROL, settingsOf, type AbGoal } from './variants-schema';

// The figures of a landing page's A/B test, and the test that says whether a variant differs from
// the original: the two-proportion z-test with a pooled proportion, two-sided. A visitor is one
// trial (counted once, with the variant of its first view); a conversion is a visitor's first goal
// event after that view (core/pages/test-events.ts). With more than one variant, each is compared
// with the original at alpha = (1 − confidence) / number of variants (Bonferroni), so that the
// chance of any false "significant" stays within the confidence asked for.

export const METHOD =
  'Two-proportion z-test with pooled proportion, two-sided: each variant against the original page; visitors are the trials, converted visitors the successes; alpha = (1 − confidence) / number of variants (Bonferroni).';

/** The complementary error function; relative error below 1.2e-7 (Numerical Recipes' erfcc, a Chebyshev fit). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

export interface ZTest {
  /** (rate of b − rate of a) / pooled standard error. */
  z: number;
  /** Two-sided: the chance of a difference at least this large if both convert alike. */
  p_value: number;
}

/** The pooled two-proportion z-test of b against a (successes x of n trials each); null when either has no trials. */
export function twoProportionZTest(a: { x: number; n: number }, b: { x: number; n: number }): ZTest | null {
  if (a.n <= 0 || b.n <= 0) return null;
  const pooled = (a.x + b.x) / (a.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  // Both all-converted or none-converted: no difference to test.
  if (se === 0) return { z: 0, p_value: 1 };
  const z = (b.x / b.n - a.x / a.n) / se;
  return { z, p_value: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)) };
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));
const sig = (n: number) => Number(n.toPrecision(6));

export interface ArmStats {
  variant_id: number;
  name: string;
  control: boolean;
  weight: number;
  /** Page views of the variant (every view, also those of a visitor who saw it before). */
  views: number;
  /** Visitors whose first view of the page in this test was this variant: the trials. */
  visitors: number;
  /** Of those, visitors with a goal event after that view. */
  conversions: number;
  /** conversions / visitors, null without visitors. */
  rate: number | null;
  /** Against the original page; null for the original itself. */
  versus_control: {
    /** rate − the original's rate (absolute). */
    difference: number | null;
    /** difference / the original's rate; null when the original's rate is 0 or unknown. */
    lift: number | null;
    z: number | null;
    p_value: number | null;
    significant: boolean;
  } | null;
}

export interface TestStats {
  page_id: number;
  test_id: number;
  status: 'running' | 'ended';
  started_at: string;
  ended_at: string | null;
  goal: AbGoal;
  method: string;
  confidence: number;
  alpha: number;
  min_visitors: number;
  auto_winner: boolean;
  /** Every variant with traffic (weight above 0), the original included, has min_visitors visitors. */
  min_reached: boolean;
  winner: { variant_id: number; picked_by: 'manual' | 'auto'; picked_at: string } | null;
  variants: ArmStats[];
}

interface Arm {
  id: number;
  name: string;
  weight: number;
  views: number;
  visitors: number;
  conversions: number;
}

/** The figures of an arm list (the original first) at a confidence in percent. */
export function compare(arms: Arm[], confidence: number): { alpha: number; variants: ArmStats[] } {
  const compared = arms.filter((a) => a.id !== CONTROL).length;
  const alpha = (1 - confidence / 100) / Math.max(1, compared);
  const control = arms.find((a) => a.id === CONTROL)!;
  const rate = (a: Arm) => (a.visitors ? a.conversions / a.visitors : null);
  const base = rate(control);
  const variants = arms.map((a): ArmStats => {
    const r = rate(a);
    let versus: ArmStats['versus_control'] = null;
    if (a.id !== CONTROL) {
      const test = twoProportionZTest({ x: control.conversions, n: control.visitors }, { x: a.conversions, n: a.visitors });
      const difference = r !== null && base !== null ? r - base : null;
      versus = {
        difference: difference === null ? null : round(difference, 6),
        lift: difference === null || !base ? null : round(difference / base, 6),
        z: test ? round(test.z, 4) : null,
        p_value: test ? sig(test.p_value) : null,
        significant: !!test && test.p_value < alpha,
      };
    }
    const { id, name, weight, views, visitors, conversions } = a;
    return { variant_id: id, name, control: id === CONTROL, weight, views, visitors, conversions, rate: r === null ? null : round(r, 6), versus_control: versus };
  });
  return { alpha: sig(alpha), variants };
}

/** The variant to pick automatically: once every variant with traffic has the minimum, the best that beats the original significantly. */
export function autoPick(s: { variants: ArmStats[]; min_reached: boolean }): number | null {
  if (!s.min_reached) return null;
  const better = s.variants.filter((v) => v.versus_control?.significant && (v.versus_control.difference ?? 0) > 0);
  better.sort((a, b) => b.rate! - a.rate! || a.variant_id - b.variant_id);
  return better[0]?.variant_id ?? null;
}

/** The running test of a page, or else its last one; its figures from the counts the page-tests reaction keeps. */
export async function testStats(ctx: Ctx, input: { pageId: number; testId?: number }): Promise<TestStats> {
  const [pages, tests] = await ctx.client.batch(
    [
      { sql: 'SELECT id, title, ab_settings, ab_test_id, created_at FROM pages WHERE id = ?', args: [input.pageId] },
      {
        sql: `SELECT * FROM page_tests WHERE page_id = ? ${input.testId ? 'AND id = ?' : ''} ORDER BY status = 'running' DESC, id DESC LIMIT 1`,
        args: input.testId ? [input.pageId, input.testId] : [input.pageId],
      },
    ],
    'read',
  );
  const page = pages!.rows[0];
  if (!page) throw new NotFoundError('Page');
  const test = tests!.rows[0];
  if (!test) throw new NotFoundError('A/B test (add a variant to the page to start one)');
  const testId = Number(test.id);
  const [variants, counts, views] = await ctx.client.batch(
    [
      { sql: 'SELECT id, name, weight FROM page_variants WHERE test_id = ? ORDER BY id', args: [testId] },
      {
        sql: 'SELECT variant_id, count(*) AS visitors, count(converted_event_id) AS conversions FROM page_test_visitors WHERE test_id = ? GROUP BY variant_id',
        args: [testId],
      },
      { sql: 'SELECT variant_id, views FROM page_test_views WHERE test_id = ?', args: [testId] },
    ],
    'read',
  );
  const byVariant = new Map(counts!.rows.map((r) => [Number(r.variant_id), { visitors: Number(r.visitors), conversions: Number(r.conversions) }]));
  const viewsOf = new Map(views!.rows.map((r) => [Number(r.variant_id), Number(r.views)]));
  const list = variants!.rows.map((r) => ({ id: Number(r.id), name: String(r.name), weight: Number(r.weight) }));
  const total = list.reduce((s, v) => s + v.weight, 0);
  const arms: Arm[] = [{ id: CONTROL, name: 'Original', weight: 100 - total }, ...list].map((a) => ({
    ...a,
    views: viewsOf.get(a.id) ?? 0,
    visitors: byVariant.get(a.id)?.visitors ?? 0,
    conversions: byVariant.get(a.id)?.conversions ?? 0,
  }));
  const settings = settingsOf(page.ab_settings);
  const { alpha, variants: figures } = compare(arms, settings.confidence);
  const ended = String(test.status) === 'ended';
  return {
    page_id: input.pageId,
    test_id: testId,
    status: ended ? 'ended' : 'running',
    started_at: iso(Number(test.started_at))!,
    ended_at: iso(test.ended_at === null ? null : Number(test.ended_at)),
    goal: JSON.parse(String(test.goal)) as AbGoal,
    method: METHOD,
    confidence: settings.confidence,
    alpha,
    min_visitors: settings.min_visitors,
    auto_winner: settings.auto_winner,
    min_reached: arms.every((a) => a.weight === 0 || a.visitors >= settings.min_visitors),
    winner:
      ended && test.winner_variant_id !== null
        ? { variant_id: Number(test.winner_variant_id), picked_by: String(test.winner_by) as 'manual' | 'auto', picked_at: iso(Number(test.ended_at))! }
        : null,
    variants: figures,
  };
}
