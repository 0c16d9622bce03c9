import type { InStatement, InValue } from '@libsql/client';
import { CORE_COLUMNS } from './values';

/** Checked values to write (prepare.ts makes them): columns given, custom values, the normalised email. */
export interface ContactValues {
  cols: Record<string, string | null>;
  custom?: Record<string, unknown> | undefined;
  emailNorm?: string | null | undefined;
}

/**
 * Every write to the `contacts` table, in one module. Other areas (forms,
 * scoring, segments, the spine's reactions) build their transactions from
 * these statements and never write the table themselves, so a reader finds
 * here everything that can change a contact row — and `updated_at`, which
 * segments follow to re-check contacts, moves on every change of contact data.
 */

/** An extra condition every statement of a firing runs behind (e.g. "this trigger fired now"). */
export type Guard = { sql: string; args: InValue[] };
export const ALWAYS: Guard = { sql: '1', args: [] };

const idList = (ids: number[]) => JSON.stringify(ids);

/**
 * Creates or updates contacts matched on the normalised email, one statement
 * for a group of rows that give the same columns. Rows are passed as one JSON
 * parameter: no variable limit, one parse, set-based work in SQLite.
 */
export function upsertByEmail(group: ContactValues[], now: number): InStatement {
  const sample = group[0]!;
  const cols = CORE_COLUMNS.filter((c) => c in sample.cols);
  // The email matched (normalised), so the stored spelling is kept.
  const sets = cols.filter((c) => c !== 'email').map((c) => `${c} = excluded.${c}`);
  if (sample.custom) sets.push('custom = json_patch(contacts.custom, excluded.custom)');
  sets.push('updated_at = excluded.updated_at');
  const payload = group.map((p) => ({ ...p.cols, n: p.emailNorm, custom: p.custom ?? {} }));
  return {
    sql: `INSERT INTO contacts (${CORE_COLUMNS.join(', ')}, email_normalized, custom, created_at, updated_at)
      SELECT ${CORE_COLUMNS.map((c) => `json_extract(value, '$.${c}')`).join(', ')},
        json_extract(value, '$.n'), json(json_extract(value, '$.custom')), ?, ?
      FROM json_each(?) WHERE true
      ON CONFLICT(email_normalized) WHERE email_normalized IS NOT NULL DO UPDATE SET ${sets.join(', ')}`,
    args: [now, now, JSON.stringify(payload)],
  };
}

/** A contact known without an email (an API create without one); answers its id. */
export function insertWithoutEmail(p: ContactValues, now: number): InStatement {
  const cols = Object.keys(p.cols).filter((c) => c !== 'email');
  const all = [...cols, 'custom', 'created_at', 'updated_at'];
  return {
    sql: `INSERT INTO contacts (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')}) RETURNING id`,
    args: [...cols.map((c) => p.cols[c] ?? null), JSON.stringify(p.custom ?? {}), now, now],
  };
}

/**
 * Writes prepared values to one contact. `replace`: every given column is
 * written, null clears it and the email may change (an API update). `fill`:
 * only values that were given are written, never the email and never a clear
 * (a form submission adds what the person typed). Null when there is nothing to write.
 */
export function writeValues(id: number, p: ContactValues, now: number, mode: 'replace' | 'fill', returning = false): InStatement | null {
  const sets: string[] = [];
  const args: InValue[] = [];
  for (const [col, v] of Object.entries(p.cols)) {
    if (mode === 'fill' && (col === 'email' || v === null)) continue;
    sets.push(`${col} = ?`);
    args.push(v);
  }
  if (mode === 'replace' && p.emailNorm !== undefined) {
    sets.push('email_normalized = ?');
    args.push(p.emailNorm);
  }
  if (p.custom && (mode === 'replace' || Object.keys(p.custom).length)) {
    sets.push('custom = json_patch(custom, ?)');
    args.push(JSON.stringify(p.custom));
  }
  if (!sets.length && !returning) return null;
  return { sql: `UPDATE contacts SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = ?${returning ? ' RETURNING id' : ''}`, args: [...args, now, id] };
}

/** One field by its form/action name, for one contact or a set: a built-in column, or `fields.<key>` for a custom field. */
export function writeField(contacts: ContactSet, field: string, value: unknown, now: number): InStatement {
  const who = `id IN (SELECT contact_id FROM (${contacts.sql}))`;
  if (field.startsWith('fields.')) {
    return {
      sql: `UPDATE contacts SET custom = json_patch(custom, ?), updated_at = ? WHERE ${who}`,
      args: [JSON.stringify({ [field.slice(7)]: value }), now, ...contacts.args],
    };
  }
  if (!(CORE_COLUMNS as string[]).includes(field) || field === 'email') throw new Error(`not a writable contact column: ${field}`);
  return { sql: `UPDATE contacts SET ${field} = ?, updated_at = ? WHERE ${who}`, args: [value as InValue, now, ...contacts.args] };
}

/** Marks contacts changed (their tags, companies, do-not-contact or sales status did), so segments re-check them. */
export function touch(ids: number[], now: number, guard: Guard = ALWAYS): InStatement {
  return {
    sql: `UPDATE contacts SET updated_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND (${guard.sql})`,
    args: [now, idList(ids), ...guard.args],
  };
}

/** Marks the contacts linked to a company changed (company fields are contact data for segments). */
export function touchCompanyContacts(companyId: number, now: number): InStatement {
  return {
    sql: 'UPDATE contacts SET updated_at = ? WHERE id IN (SELECT contact_id FROM company_contacts WHERE company_id = ?)',
    args: [now, companyId],
  };
}

/** SQL yielding `contact_id`s: the contacts a statement acts on (one behind a guard, or a set). */
export type ContactSet = { sql: string; args: InValue[] };

/** One contact, when the guard holds. */
export const oneContact = (id: number, guard: Guard = ALWAYS): ContactSet => ({ sql: `SELECT ? AS contact_id WHERE (${guard.sql})`, args: [id, ...guard.args] });

/** Moves contacts to a stage (or none) unless they are there already. */
export function writeStage(contacts: ContactSet, stageId: number | null, now: number): InStatement {
  return {
    sql: `UPDATE contacts SET stage_id = ?, updated_at = ? WHERE id IN (SELECT contact_id FROM (${contacts.sql})) AND stage_id IS NOT ?`,
    args: [stageId, now, ...contacts.args, stageId],
  };
}

/** Marks a set of contacts changed (see touch). */
export function touchSet(contacts: ContactSet, now: number): InStatement {
  return { sql: `UPDATE contacts SET updated_at = ? WHERE id IN (SELECT contact_id FROM (${contacts.sql}))`, args: [now, ...contacts.args] };
}

/** A deleted stage leaves its contacts without one. */
export function clearStage(stageId: number, now: number): InStatement {
  return { sql: 'UPDATE contacts SET stage_id = NULL, updated_at = ? WHERE stage_id = ?', args: [now, stageId] };
}

/** The points column made the sum of the point log again, where it differs. */
export function writePointsFromLog(idsJson: string, now: number): InStatement {
  return {
    sql: `UPDATE contacts SET points = coalesce((SELECT sum(delta) FROM point_log WHERE contact_id = contacts.id), 0), updated_at = ?
      WHERE id IN (SELECT value FROM json_each(?)) AND points <> coalesce((SELECT sum(delta) FROM point_log WHERE contact_id = contacts.id), 0)`,
    args: [now, idsJson],
  };
}

/** A visitor's first touch and activity, given to the contact it resolved to (the earlier first touch wins). */
export function absorbVisitor(contactId: number, visitorId: number): InStatement {
  return {
    sql: `UPDATE contacts SET
        first_source = CASE WHEN contacts.first_seen_at IS NULL OR v.first_seen_at < contacts.first_seen_at
          THEN coalesce(v.source, contacts.first_source) ELSE coalesce(contacts.first_source, v.source) END,
        first_seen_at = min(coalesce(contacts.first_seen_at, v.first_seen_at), v.first_seen_at),
        last_active_at = max(coalesce(contacts.last_active_at, 0), v.last_seen_at)
      FROM visitors v WHERE v.id = ? AND contacts.id = ?`,
    args: [visitorId, contactId],
  };
}

/**
 * absorbVisitor's first touch for the identified visitors among `pairsJson` ([[site, uid], …]),
 * the earliest of a contact's visitors winning. Hits written through a Queue may land after the
 * identify was absorbed (core/tracking/consume.ts): a first hit's source reaches the contact then.
 */
export function absorbVisitorsByUid(pairsJson: string): InStatement {
  return {
    sql: `UPDATE contacts SET
        first_source = CASE WHEN contacts.first_seen_at IS NULL OR v.first_seen_at < contacts.first_seen_at
          THEN coalesce(v.source, contacts.first_source) ELSE coalesce(contacts.first_source, v.source) END,
        first_seen_at = min(coalesce(contacts.first_seen_at, v.first_seen_at), v.first_seen_at)
      FROM (SELECT v.contact_id, v.source, min(v.first_seen_at) AS first_seen_at FROM json_each(?) j
        JOIN visitors v ON v.site_id = j.value ->> 0 AND v.uid = j.value ->> 1
        WHERE v.contact_id IS NOT NULL GROUP BY v.contact_id) v
      WHERE contacts.id = v.contact_id
        AND (contacts.first_seen_at IS NULL OR v.first_seen_at < contacts.first_seen_at OR (contacts.first_source IS NULL AND v.source IS NOT NULL))`,
    args: [pairsJson],
  };
}

/** last_active_at moved to each contact's latest own event: `latest` is [[contactId, ms], …]. */
export function writeLastActive(latest: [number, number][]): InStatement {
  return {
    sql: `UPDATE contacts SET last_active_at = max(coalesce(last_active_at, 0), j.value ->> 1)
      FROM json_each(?) j WHERE contacts.id = j.value ->> 0`,
    args: [JSON.stringify(latest)],
  };
}

/** A deleted custom field's values leave every contact. */
export function removeCustomValue(key: string): InStatement {
  const path = `$."${key}"`;
  return { sql: `UPDATE contacts SET custom = json_remove(custom, ?) WHERE json_type(custom, ?) IS NOT NULL`, args: [path, path] };
}

/**
 * The survivor of a merge takes the merged contact's values where it has none
 * (`merged` is the merged contact's raw row); the merged row is deleted first,
 * since the survivor may take over its email, which must stay unique.
 */
export function absorbMerged(survivorId: number, mergedId: number, merged: Record<string, unknown>, now: number): InStatement[] {
  const fill = CORE_COLUMNS.filter((c) => c !== 'email');
  const firstSeen = merged.first_seen_at ?? null;
  return [
    deleteRow(mergedId),
    {
      sql: `UPDATE contacts SET ${fill.map((c) => `${c} = coalesce(${c}, ?)`).join(', ')},
          email = coalesce(email, ?), email_normalized = coalesce(email_normalized, ?),
          custom = json_patch(?, custom),
          first_seen_at = min(coalesce(first_seen_at, ?), coalesce(?, first_seen_at)),
          first_source = CASE WHEN first_seen_at IS NULL OR (? IS NOT NULL AND ? < first_seen_at) THEN coalesce(?, first_source) ELSE coalesce(first_source, ?) END,
          last_active_at = max(coalesce(last_active_at, 0), coalesce(?, 0)),
          created_at = min(created_at, ?),
          updated_at = ?
        WHERE id = ?`,
      args: [
        ...fill.map((c) => (merged[c] ?? null) as InValue),
        (merged.email ?? null) as InValue,
        (merged.email_normalized ?? null) as InValue,
        String(merged.custom ?? '{}'),
        firstSeen as InValue,
        firstSeen as InValue,
        firstSeen as InValue,
        firstSeen as InValue,
        (merged.first_source ?? null) as InValue,
        (merged.first_source ?? null) as InValue,
        (merged.last_active_at ?? null) as InValue,
        Number(merged.created_at),
        now,
        survivorId,
      ],
    },
    // last_active_at of 0 means "never": keep it NULL.
    { sql: 'UPDATE contacts SET last_active_at = NULL WHERE id = ? AND last_active_at = 0', args: [survivorId] },
  ];
}

/** The contact row itself (erasure and merges delete everything else first). */
export function deleteRow(id: number): InStatement {
  return { sql: 'DELETE FROM contacts WHERE id = ?', args: [id] };
}
