import type { InValue } from '@libsql/client';
import type { CompileEnv } from '../segments/compile';
import { compileFilter } from '../segments/compile';
import type { Definition, DecisionOn, EventMatch, Goal } from './definition';

/**
 * What decisions and goals ask of a contact, as one SQL predicate: the single home of "did the
 * contact do it", used when a decision is reached, by the spine reaction when events arrive, at
 * the timeout, and for goals. Event matches look in the log between two instants (this pass:
 * from when the contact entered); state matches read the contact as it is now.
 */

export interface Sql {
  sql: string;
  args: InValue[];
}

/** SQL expressions (not values) for the contact id and the time bounds, e.g. `campaign_steps.contact_id`. */
export interface MatchScope {
  contact: string;
  since: string;
  until: string;
}

const URL_OPS = {
  equals: 'e.url = ?',
  contains: 'instr(e.url, ?) > 0',
  starts_with: 'substr(e.url, 1, length(?1)) = ?1',
  ends_with: 'substr(e.url, -length(?1)) = ?1',
} as const;

function eventSql(m: EventMatch, scope: MatchScope): Sql {
  const where = [`e.contact_id = ${scope.contact}`, 'e.type = ?', `e.created_at >= ${scope.since}`, `e.created_at <= ${scope.until}`];
  const args: InValue[] = [m.event];
  // Opens by privacy proxies and clicks by link scanners are not the contact's doing.
  // Every open and click carries `machine` (false for people), so "not a machine" is `IS NOT 1`, not "absent".
  if (m.event === 'email_opened' || m.event === 'email_clicked') where.push("json_extract(e.props, '$.machine') IS NOT 1");
  if (m.email_id !== undefined) where.push("json_extract(e.props, '$.email_id') = ?"), args.push(m.email_id);
  if (m.form_id !== undefined) where.push("json_extract(e.props, '$.form_id') = ?"), args.push(m.form_id);
  if (m.asset_id !== undefined) where.push("json_extract(e.props, '$.asset_id') = ?"), args.push(m.asset_id);
  // The tracker sends slot ids as numbers; a string of the digits counts too (as the slot stats count it).
  if (m.slot_id !== undefined) where.push("CAST(json_extract(e.props, '$.slot_id') AS TEXT) = ?"), args.push(String(m.slot_id));
  if (m.variant !== undefined) where.push("json_extract(e.props, '$.variant') = ?"), args.push(m.variant);
  if (m.name !== undefined) where.push('e.name = ?'), args.push(m.name);
  if (m.url) {
    // Numbered parameters would collide with the statement's; repeat the value instead.
    const op = URL_OPS[m.url.op].replaceAll('?1', '?');
    where.push(`e.url IS NOT NULL AND ${op}`);
    args.push(...Array<string>(op.split('?').length - 1).fill(m.url.value));
  }
  return { sql: `EXISTS (SELECT 1 FROM events e INDEXED BY events_contact_type_idx WHERE ${where.join(' AND ')})`, args };
}

/** Whether the contact did (event) or is at (state) what `on` names. */
export function matchSql(on: DecisionOn, scope: MatchScope): Sql {
  if ('event' in on) return eventSql(on, scope);
  if ('points_at_least' in on) return { sql: `(SELECT points FROM contacts WHERE id = ${scope.contact}) >= ?`, args: [on.points_at_least] };
  return {
    sql: `(SELECT st.position FROM contacts ct JOIN stages st ON st.id = ct.stage_id WHERE ct.id = ${scope.contact}) >= (SELECT position FROM stages WHERE id = ?)`,
    args: [on.stage_id],
  };
}

/** A goal as a predicate: an event or state match, or a segment filter over the contact. Throws when the filter no longer compiles. */
export function goalSql(goal: Goal, scope: MatchScope, env: CompileEnv): Sql {
  if ('on' in goal) return matchSql(goal.on, scope);
  const f = compileFilter(goal.filter, env).scoped;
  return { sql: `EXISTS (SELECT 1 FROM contacts c WHERE c.id = ${scope.contact} AND (${f.sql}))`, args: f.args };
}

/** The event types that can satisfy a decision or goal (state matches: their change events). */
export function eventTypesOf(on: DecisionOn): string[] {
  if ('event' in on) return [on.event];
  return 'points_at_least' in on ? ['points_changed'] : ['stage_changed'];
}

/** A goal as checked for passes as they are made (entered now), for enrollStatements. */
export interface EntryGoal extends Sql {
  id: string;
}

/**
 * The goals of a definition as predicates over campaign_enrollments rows entered at `now`: a
 * contact that already meets a goal when it enters converts at once (it never gets the first
 * step). A goal whose filter no longer compiles is left out here (the spine logs it).
 */
export function entryGoals(def: Pick<Definition, 'goals'>, now: number, env: CompileEnv): EntryGoal[] {
  return def.goals.flatMap((g) => {
    try {
      return [{ id: g.id, ...goalSql(g, { contact: 'campaign_enrollments.contact_id', since: 'campaign_enrollments.entered_at', until: String(now) }, env) }];
    } catch {
      return [];
    }
  });
}
