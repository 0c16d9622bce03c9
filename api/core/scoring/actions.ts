import { z } from 'zod';
import type { InStatement } from '@libsql/client';
import { stageStatements, type Actor } from './stages';
import { normalizeTag, TagName } from '../contacts/prepare';
import { touchSet, type ContactSet } from '../contacts/writes';

/**
 * The context an action runs in: the contacts it acts on (SQL yielding `contact_id`: one contact
 * behind the guard that says the action should happen, e.g. oneContact(id, guard), or a whole
 * group at once, as a campaign step's held rows), so each action is a few statements however
 * many contacts it reaches.
 */
export interface ActionRun {
  contacts: ContactSet;
  now: number;
  actor: Actor;
  /** Unique per firing, for queued side effects (webhooks) to dedupe on; the contact id is appended. */
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

/** `contact_id IN (the run's contacts)`, for a WHERE. */
const inRun = (run: ActionRun, column = 'contact_id') => ({ sql: `${column} IN (SELECT contact_id FROM (${run.contacts.sql}))`, args: run.contacts.args });

const segmentMembership = (join: boolean) =>
  def({
    params: z.strictObject({ segment_id: z.number().int().positive() }),
    statements: (run, p) => {
      const props = JSON.stringify({ segment_id: p.segment_id, via: run.actor.type });
      const who = inRun(run);
      const ids = inRun(run, 'c.id');
      if (join) {
        return [
          { sql: `DELETE FROM segment_exclusions WHERE segment_id = ? AND ${who.sql}`, args: [p.segment_id, ...who.args] },
          {
            sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT c.id, 'segment_joined', ?, ? FROM contacts c WHERE ${ids.sql}
              AND EXISTS (SELECT 1 FROM segments WHERE id = ?) AND NOT EXISTS (SELECT 1 FROM segment_members WHERE segment_id = ? AND contact_id = c.id)`,
            args: [props, run.now, ...ids.args, p.segment_id, p.segment_id],
          },
          {
            sql: `INSERT INTO segment_members (segment_id, contact_id, source, added_at) SELECT ?, c.id, 'manual', ? FROM contacts c WHERE ${ids.sql}
              AND EXISTS (SELECT 1 FROM segments WHERE id = ?) ON CONFLICT(segment_id, contact_id) DO UPDATE SET source = 'manual'`,
            args: [p.segment_id, run.now, ...ids.args, p.segment_id],
          },
        ];
      }
      return [
        {
          sql: `INSERT INTO events (contact_id, type, props, created_at) SELECT contact_id, 'segment_left', ?, ? FROM segment_members
            WHERE segment_id = ? AND ${who.sql}`,
          args: [props, run.now, p.segment_id, ...who.args],
        },
        { sql: `DELETE FROM segment_members WHERE segment_id = ? AND ${who.sql}`, args: [p.segment_id, ...who.args] },
        {
          sql: `INSERT INTO segment_exclusions (segment_id, contact_id, created_at) SELECT ?, c.id, ? FROM contacts c WHERE ${ids.sql}
            AND EXISTS (SELECT 1 FROM segments WHERE id = ?) ON CONFLICT DO NOTHING`,
          args: [p.segment_id, run.now, ...ids.args, p.segment_id],
        },
      ];
    },
  });

/**
 * Everything a trigger, a form or a campaign step can do to contacts, in one
 * registry. Each action is a few SQL statements over the run's contacts, run in
 * the same transaction as the firing.
 */
export const ACTIONS = {
  change_stage: def({
    params: z.strictObject({ stage_id: z.number().int().positive().nullable() }),
    statements: (run, p) => stageStatements(run.contacts, p.stage_id, run.actor, run.now),
  }),
  add_tags: def({
    params: z.strictObject({ tags: TagList }),
    statements: (run, p) => {
      const names = JSON.stringify(p.tags.map(normalizeTag));
      return [
        { sql: 'INSERT INTO tags (name, created_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT(name) DO NOTHING', args: [run.now, names] },
        {
          sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at) SELECT w.contact_id, t.id, ? FROM (${run.contacts.sql}) w
            JOIN tags t ON t.name IN (SELECT value FROM json_each(?)) WHERE true ON CONFLICT DO NOTHING`,
          args: [run.now, ...run.contacts.args, names],
        },
        touchSet(run.contacts, run.now),
      ];
    },
  }),
  remove_tags: def({
    params: z.strictObject({ tags: TagList }),
    statements: (run, p) => {
      const who = inRun(run);
      return [
        {
          sql: `DELETE FROM contact_tags WHERE tag_id IN (SELECT id FROM tags WHERE name IN (SELECT value FROM json_each(?))) AND ${who.sql}`,
          args: [JSON.stringify(p.tags.map(normalizeTag)), ...who.args],
        },
        touchSet(run.contacts, run.now),
      ];
    },
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
    statements: (run, p) => {
      const ids = inRun(run, 'c.id');
      return [
        {
          // The body is built in SQL from each contact as it is at the moment of firing.
          // contact_id: the body copies the contact's data, so erasure and merge must find the row.
          sql: `INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, contact_id, next_attempt_at, created_at)
            SELECT ?, ? || c.id || ':' || ?, ?, ?, json_object('type', ?, 'created_at', ?, 'data', json_object('about', json(?),
              'contact', json_object('id', c.id, 'email', c.email, 'first_name', c.first_name, 'last_name', c.last_name, 'points', c.points,
                'stage', (SELECT name FROM stages WHERE id = c.stage_id)))), c.id, ?, ?
            FROM contacts c WHERE ${ids.sql}
            ON CONFLICT(dedupe_key) DO NOTHING`,
          args: [
            String(run.about.source ?? 'trigger'),
            run.key,
            p.url,
            p.url,
            p.secret ?? '',
            String(run.about.type ?? 'trigger.fired'),
            new Date(run.now).toISOString(),
            JSON.stringify(run.about),
            run.now,
            run.now,
            ...ids.args,
          ],
        },
      ];
    },
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
