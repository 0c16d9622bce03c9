import { z } from '@hono/zod-openapi';
import { AbGoal } from '../../core/pages/schema';
import { Timestamp } from '../shared';

// The answer schemas of landing page A/B tests (routes/pages/variants.ts), and the `ab_test` field
// every page carries (routes/pages/pages.ts).

export const AB_DOC =
  'A/B tests: a page\'s variants (each its own title and sections, and a weight: the percentage of visitors it gets; the original page, "variant 0", gets the rest) are served at the page\'s address. ' +
  'A visitor (the tag\'s ll_vid cookie, set by the page when missing) gets a variant by a hash of page, test and visitor id against the weights, the same one on every visit; bots get the original. ' +
  'The page view the tag sends names the variant (props page_id, page_test_id, variant_id); a visitor counts once, with the variant of its first view, and converts at its first goal event after it: ' +
  'form_submitted (a submission of the goal\'s form, or of any form the page or its variants embed), cta_click (a click on one of the test page\'s buttons, or the one with the goal\'s cta_id; sent by the tag as the custom event "cta_click"), ' +
  'or custom_event (a custom event of that name from the visitor, anywhere on the site). Visitors without JavaScript, or whom the tag may not count, are outside the test.';

export const PageAbGoalSchema = AbGoal.openapi('PageAbGoal', {
  description: 'What counts as a conversion: form_submitted (form_id: one form, or null: any form on the page), cta_click (cta_id: one button, or null: any), custom_event (event_name).',
});

export const PageAbTestSchema = z
  .object({
    goal: PageAbGoalSchema,
    min_visitors: z.number().int().openapi({ description: 'The automatic winner waits until every variant with traffic (the original included) has this many visitors' }),
    confidence: z.number().openapi({ description: 'In percent (80–99.9): a variant is significantly different when the p-value is below (100 − confidence)/100, divided by the number of variants' }),
    auto_winner: z.boolean().openapi({ description: 'Pick the winner automatically once the minimum is reached and a variant beats the original significantly' }),
    test_id: z.number().int().nullable().openapi({ description: 'The running test; null when none runs' }),
    last_winner: z
      .object({
        test_id: z.number().int(),
        variant_id: z.number().int().openapi({ description: '0: the original page' }),
        variant_name: z.string(),
        picked_by: z.enum(['manual', 'auto']),
        picked_at: Timestamp,
      })
      .nullable()
      .openapi({ description: 'How the last test ended; null before one did' }),
  })
  .openapi('PageAbTest', { description: 'The page\'s A/B settings and test. Change the settings with PATCH /api/v1/pages/{id} (ab_test).' });

const Versus = z
  .object({
    difference: z.number().nullable().openapi({ description: "rate − the original's rate" }),
    lift: z.number().nullable().openapi({ description: "difference / the original's rate; null when that is 0" }),
    z: z.number().nullable().openapi({ description: 'The z statistic of the pooled two-proportion test; null without visitors on either side' }),
    p_value: z.number().nullable().openapi({ description: 'Two-sided p-value' }),
    significant: z.boolean().openapi({ description: 'p_value < alpha' }),
  })
  .openapi('PageVariantComparison');

export const PageTestStatsSchema = z
  .object({
    page_id: z.number().int(),
    test_id: z.number().int(),
    status: z.enum(['running', 'ended']),
    started_at: Timestamp,
    ended_at: Timestamp.nullable(),
    goal: PageAbGoalSchema,
    method: z.string().openapi({ description: 'The statistical test used: the two-proportion z-test with pooled proportion, two-sided, each variant against the original' }),
    confidence: z.number(),
    alpha: z.number().openapi({ description: '(1 − confidence/100) / number of variants (Bonferroni)' }),
    min_visitors: z.number().int(),
    auto_winner: z.boolean(),
    min_reached: z.boolean().openapi({ description: 'Every variant with traffic has min_visitors visitors' }),
    winner: z.object({ variant_id: z.number().int(), picked_by: z.enum(['manual', 'auto']), picked_at: Timestamp }).nullable(),
    variants: z.array(
      z
        .object({
          variant_id: z.number().int().openapi({ description: '0: the original page' }),
          name: z.string(),
          control: z.boolean(),
          weight: z.number().int(),
          views: z.number().int().openapi({ description: 'Page views of the variant, repeat views included' }),
          visitors: z.number().int().openapi({ description: 'Visitors whose first view in the test was this variant: the trials' }),
          conversions: z.number().int().openapi({ description: 'Of those, visitors with a goal event after that view' }),
          rate: z.number().nullable().openapi({ description: 'conversions / visitors' }),
          versus_control: Versus.nullable().openapi({ description: 'Against the original; null for the original itself' }),
        })
        .openapi('PageVariantStats'),
    ),
  })
  .openapi('PageTestStats');
