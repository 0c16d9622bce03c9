import { z } from 'zod';
import type { InStatement } from '@libsql/client';
import { stageStatements, type Actor } from './stages';
import { normalizeTag, TagName } from '../contacts/prepare';
import { touch, type Guard } from '../contacts/writes';

/** The context an action runs in: the contact, and a guard that holds only when the action should happen. */
export interface ActionRun {
  contactId: number;
  now: number;
  actor: Actor;
  guard: Guard;
  /** Unique per firing, for queued side effects (webhooks) to dedupe on. */
  key: string;
  /** JSON describing what fired (for webhook bodies). */
  about: Record<string, unknown>;
}

interface ActionDef<S extends z.ZodType> {
  params: S;
  statements(run: ActionRun, params: z.infer<S>): InStatement[];
}

const def = <S extends z.ZodType>(d: ActionDef<S>) => d;

const TagList = z.array(TagName).min(1).max(20);

const segmentMembership = (join: boolean) =>
  def({
    params: z.strictObject({ segment_id: z.number().int().positive() }),
    statements: (run, p) => {
      const props = JSON.stringify({ segment_id: p.segment_id, via: run.actor.type });
      const g = run.guard;
      if (join) {
        return [
          { sql: 'DELETE FROM segment_exclusions WHERE segment_id = ? AND contact_id = ? AND (' + g.sql + ')', args: [p.segment_id, run.contactId, ...g.args] },
          {
            sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT ?, 'segment_joined', ?, ? WHERE (${g.sql})
              AND EXISTS (SELECT 1 FROM segments WHERE id = ?) AND NOT EXISTS (SELECT 1 FROM segment_members WHERE segment_id = ? AND contact_id = ?)`,
            args: [run.contactId, props, run.now, ...g.args, p.segment_id, p.segment_id, run.contactId],
          },
          {
            sql: `INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, ?, 'manual', ? WHERE (${g.sql})
              AND EXISTS (SELECT 1 FROM segments WHERE id = ?) ON CONFLICT(segment_id, contact_id) DO UPDATE SET source = 'manual'`,
            args: [p.segment_id, run.contactId, run.now, ...g.args, p.segment_id],
          },
        ];
      }
      return [
        {
          sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT contact_id, 'segment_left', ?, ? FROM segment_members
            WHERE segment_id = ? AND contact_id = ? AND (${g.sql})`,
          args: [props, run.now, p.segment_id, run.contactId, ...g.args],
        },
        { sql: `DELETE FROM segment_members WHERE segment_id = ? AND contact_id = ? AND (${g.sql})`, args: [p.segment_id, run.contactId, ...g.args] },
        {
          sql: `INSERT INTO segment_exclusions (segment_id, contact_id, created_at) SELECT ?, ?, ? WHERE (${g.sql})
            AND EXISTS (SELECT 1 FROM segments WHERE id = ?) ON CONFLICT DO NOTHING`,
          args: [p.segment_id, run.contactId, run.now, ...g.args, p.segment_id],
        },
      ];
    },
  });

/**
 * Everything a trigger (and later a campaign) can do to a contact, in one
 * registry. Each action is a list of SQL statements run in the same
 * transaction as the firing, all behind the firing's guard.
 */
export const ACTIONS = {
  change_stage: def({
    params: z.strictObject({ stage_id: z.number().int().positive().nullable() }),
    statements: (run, p) => stageStatements(run.contactId, p.stage_id, run.actor, run.now, run.guard),
  }),
  add_tags: def({
    params: z.strictObject({ tags: TagList }),
    statements: (run, p) => {
      const names = JSON.stringify(p.tags.map(normalizeTag));
      return [
        { sql: 'INSERT INTO tags (name, created_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT(name) DO NOTHING', args: [run.now, names] },
        {
          sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at) SELECT ?, id, ? FROM tags
            WHERE name IN (SELECT value FROM json_each(?)) AND (${run.guard.sql}) ON CONFLICT DO NOTHING`,
          args: [run.contactId, run.now, names, ...run.guard.args],
        },
        touch([run.contactId], run.now, run.guard),
      ];
    },
  }),
  remove_tags: def({
    params: z.strictObject({ tags: TagList }),
    statements: (run, p) => [
      {
        sql: `DELETE FROM contact_tags WHERE contact_id = ? AND tag_id IN (SELECT id FROM tags WHERE name IN (SELECT value FROM json_each(?))) AND (${run.guard.sql})`,
        args: [run.contactId, JSON.stringify(p.tags.map(normalizeTag)), ...run.guard.args],
      },
      touch([run.contactId], run.now, run.guard),
    ],
  }),
  add_to_segment: segmentMembership(true),
  remove_from_segment: segmentMembership(false),
  webhook: def({
    params: z.strictObject({
      url: z
        .string()
        .url()
        .max(2048)
        .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL')
        .describe('A public http(s) URL. Private, loopback, link-local and cloud-metadata destinations are refused (422 when saved, and again after DNS at delivery); redirects are not followed.'),
      // Signing secret; generated when the action is saved without one.
      secret: z
        .string()
        .min(16)
        .max(200)
        .optional()
        .describe('Signing secret; generated when omitted. Shown on create and rotate-secret only; a PATCH that omits it keeps the secret stored for the same URL.'),
    }),
    statements: (run, p) => [
      {
        // The body is built in SQL from the contact as it is at the moment of firing.
        // contact_id: the body copies the contact's data, so erasure and merge must find the row.
        sql: `INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, contact_id, next_attempt_at, created_at)
          SELECT ?, ?, ?, ?, json_object('type', ?, 'created_at', ?, 'data', json_object('about', json(?),
            'contact', json_object('id', c.id, 'email', c.email, 'first_name', c.first_name, 'last_name', c.last_name, 'points', c.points,
              'stage', (SELECT name FROM stages WHERE id = c.stage_id)))), c.id, ?, ?
          FROM contacts c WHERE c.id = ? AND (${run.guard.sql})
          ON CONFLICT(dedupe_key) DO NOTHING`,
        args: [
          String(run.about.source ?? 'trigger'),
          `${run.key}:${p.url}`,
          p.url,
          p.secret ?? '',
          String(run.about.type ?? 'trigger.fired'),
          new Date(run.now).toISOString(),
          JSON.stringify(run.about),
          run.now,
          run.now,
          run.contactId,
          ...run.guard.args,
        ],
      },
    ],
  }),
} as const;

export type ActionType = keyof typeof ACTIONS;

export const Action = z.discriminatedUnion(
  'type',
  Object.entries(ACTIONS).map(([type, d]) => (d.params as z.ZodObject).extend({ type: z.literal(type) })) as unknown as [
    z.ZodObject<{ type: z.ZodLiteral<string> }>,
    ...z.ZodObject<{ type: z.ZodLiteral<string> }>[],
  ],
);
export type Action = { type: ActionType } & Record<string, unknown>;

export function actionStatements(run: ActionRun, action: Action): InStatement[] {
  const d = ACTIONS[action.type] as ActionDef<z.ZodType>;
  return d.statements(run, d.params.parse(Object.fromEntries(Object.entries(action).filter(([k]) => k !== 'type'))));
}
