import { z } from '@hono/zod-openapi';
import { CAMPAIGN_STATUSES, CampaignInput, CampaignPatch } from '../../core/campaigns/campaigns';
import { Definition } from '../../core/campaigns/definition';
import { EnrollInput } from '../../core/campaigns/membership';
import { STEP_STATUSES } from '../../core/campaigns/reports';
import { Timestamp } from '../shared';

// The campaign API's shapes: the definition is the core's zod schema, named here so the document
// refers to it once; the answers are typed from what the core returns.

/** send email → wait a day → clicked it? → tag : a second email; a purchase ends the pass as a conversion. */
export const DEFINITION_EXAMPLE = {
  sources: [{ type: 'segment', segment_id: 1, exit_on_leave: false }],
  start: 'welcome',
  steps: [
    { id: 'welcome', type: 'action', name: 'Welcome email', action: { type: 'send_email', email_id: 1 }, next: 'pause' },
    { id: 'pause', type: 'wait', wait: { for: { days: 1 } }, next: 'clicked' },
    { id: 'clicked', type: 'decision', name: 'Clicked the welcome email?', on: { event: 'email_clicked', email_id: 1 }, timeout: { hours: 4 }, yes: 'engaged', no: 'nudge' },
    { id: 'engaged', type: 'action', action: { type: 'add_tags', tags: ['engaged'] }, next: null },
    { id: 'nudge', type: 'action', name: 'Second email', action: { type: 'send_email', email_id: 2 }, next: null },
  ],
  goals: [{ id: 'bought', name: 'Purchased', on: { event: 'custom', name: 'purchase' } }],
  reentry: 'never',
};

const DEFINITION_ABOUT =
  'A graph of steps from `start`; each step names the next by id, `null` ends the pass (completed). No step may be reached twice on one path (no cycles) and every step must be reachable. ' +
  'Step types: `action` (send_email, add_tags, remove_tags, change_stage, add_to_segment, remove_from_segment, webhook — signed with the campaign secret, points, set_fields, ' +
  'notify — a transactional email to your team, enroll — into another active campaign, exit), `wait` (`for` a duration, `until` an ISO instant, or the next `window` of weekdays and ' +
  "HH:MM hours in the contact's time zone: its `timezone` field, else its site's, else UTC), `decision` (did the contact do `on` — open or click an email, visit a URL, submit a form, " +
  'download an asset, a custom event — since entering, or reach `points_at_least` / `stage_id`; waits up to `timeout` for it, then `no`), `condition` (a segment filter, evaluated now), ' +
  '`split` (2–5 branches whose `percent` add up to 100, by a stable hash of the contact). `sources` enroll contacts: a segment (its members at publish and whoever joins later; ' +
  '`exit_on_leave` ends the pass when they leave), a form submission, a custom event. `goals` end a pass as converted when reached (event since entering, or a filter). ' +
  "`reentry`: 'never', or `{after_days: N}` — a new pass N days after the previous one ended. Emails, segments, stages, forms and campaigns named must exist (422 naming the field).";

export const CampaignDefinition = Definition.openapi('CampaignDefinition', { description: DEFINITION_ABOUT, example: DEFINITION_EXAMPLE });

export const CampaignInputSchema = CampaignInput.extend({ definition: CampaignDefinition }).openapi('CampaignInput', {
  example: { name: 'Onboarding', description: 'Welcome new sign-ups, nudge the ones who did not click', definition: DEFINITION_EXAMPLE },
});
export const CampaignPatchSchema = CampaignPatch.extend({ definition: CampaignDefinition.optional() }).openapi('CampaignPatch');
export const EnrollInputSchema = EnrollInput.openapi('CampaignEnrollInput', { example: { contact_ids: [1, 2] } });

export const CampaignSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    status: z.enum(CAMPAIGN_STATUSES).openapi({ description: 'draft → (publish) active ⇄ paused → archived' }),
    version: z.number().int().nullable().openapi({ description: 'The published version new enrollments get; null until the first publish' }),
    definition: CampaignDefinition.openapi({ description: 'The working copy: edits change it; publishing freezes it as the next version' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    published_at: Timestamp.nullable().openapi({ description: 'The first publish' }),
    archived_at: Timestamp.nullable(),
  })
  .openapi('Campaign');

export const CampaignWithSecretSchema = CampaignSchema.extend({
  secret: z.string().openapi({
    description:
      "Signs the campaign's webhook actions, as trigger webhooks are signed: `Leadline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`. Shown on create and rotate-secret only.",
    example: 'whsec_…',
  }),
}).openapi('CampaignWithSecret');

export const PublishedCampaignSchema = CampaignSchema.extend({
  enrolled: z.number().int().openapi({ description: 'Contacts enrolled by this publish (current members of segment sources)' }),
}).openapi('PublishedCampaign');

export const EnrollResultSchema = z
  .object({
    enrolled: z.number().int().openapi({ description: 'Contacts that got a new pass' }),
    not_enrolled: z.array(z.number().int()).openapi({ description: 'Ids not enrolled: already in the campaign, not allowed back yet by `reentry`, or no such contact' }),
  })
  .openapi('CampaignEnrollResult');

const count = z.number().int();
const counts = z.record(z.string(), count);

export const CampaignReportSchema = z
  .object({
    campaign_id: z.number().int(),
    status: z.enum(CAMPAIGN_STATUSES),
    version: z.number().int().nullable(),
    passes: z
      .object({ entered: count, active: count, completed: count, exited: count, converted: count, conversion_rate: z.number().openapi({ description: 'converted ÷ entered' }) })
      .openapi({ description: 'Passes (one contact going through once) by how they stand or ended' }),
    goals: z.array(z.object({ id: z.string(), name: z.string().nullable(), conversions: count })),
    steps: z
      .array(
        z.object({
          step_id: z.string(),
          type: z.string().nullable().openapi({ description: 'action, wait, decision, condition or split; null for a step only older versions have' }),
          entered: count,
          pending: count,
          waiting: count,
          completed: count,
          skipped: count.openapi({ description: 'Actions that could not apply (e.g. a send to an unsubscribed contact); the path continues' }),
          failed: count.openapi({ description: 'Parked after 5 failed runs: retry them' }),
          cancelled: count.openapi({ description: 'Open when the pass ended (goal, exit, archive, removal)' }),
          skip_reasons: counts,
          branches: counts.openapi({ description: 'Decisions and conditions: yes/no; splits: the branch index ("0", "1", …)' }),
          errors: z.array(z.object({ error: z.string(), count })).openapi({ description: 'Errors of steps failing now or parked as failed' }),
        }),
      )
      .openapi({ description: 'Per step of the published version (and steps only older versions had)' }),
  })
  .openapi('CampaignReport');

export const StepRunSchema = z
  .object({
    id: z.number().int(),
    campaign_id: z.number().int(),
    version: z.number().int().openapi({ description: 'The version whose definition this pass follows' }),
    contact_id: z.number().int(),
    rotation: z.number().int().openapi({ description: 'The pass: 1 for the first, 2 for a re-entry…' }),
    step_id: z.string(),
    status: z.enum(STEP_STATUSES),
    branch: z.string().nullable(),
    attempts: z.number().int(),
    failures: z.number().int(),
    error: z.string().nullable(),
    skip_reason: z.string().nullable(),
    due_at: Timestamp.nullable().openapi({ description: 'When it runs (pending, waiting)' }),
    created_at: Timestamp,
    completed_at: Timestamp.nullable(),
  })
  .openapi('CampaignStepRun');

export const RetriedSchema = z.object({ retried: z.number().int().openapi({ description: 'Failed steps queued to run again now' }) }).openapi('CampaignRetried');

const PathStep = z.object({
  step_id: z.string(),
  status: z.string().openapi({ enum: [...STEP_STATUSES] }),
  branch: z.string().nullable(),
  skip_reason: z.string().nullable(),
  error: z.string().nullable(),
  reached_at: Timestamp,
  due_at: Timestamp.nullable(),
  completed_at: Timestamp.nullable(),
});

export const ContactCampaignSchema = z
  .object({
    campaign: z.object({ id: z.number().int(), name: z.string() }),
    rotation: z.number().int(),
    version: z.number().int(),
    status: z.string().openapi({ enum: ['active', 'completed', 'exited', 'converted'] }),
    source: z.string().openapi({ description: 'What enrolled it: manual, segment:<id>, form:<id>, event:<name>, campaign:<id>' }),
    end_reason: z.string().nullable().openapi({ description: 'Why it ended: exit_step, segment_left, removed, archived (exited); goal (converted); null when completed or active' }),
    goal: z.string().nullable().openapi({ description: 'converted: the goal reached' }),
    entered_at: Timestamp,
    ended_at: Timestamp.nullable(),
    current_step: z.string().nullable().openapi({ description: 'The step it is at (pending, waiting or failed), or null once the pass ended' }),
    path: z.array(PathStep).openapi({ description: 'The steps it reached, in order' }),
  })
  .openapi('ContactCampaign');
