import type { InStatement } from '@libsql/client';
import { deleteRow } from './writes';

/**
 * Every table that holds rows belonging to one contact, in one place, so that
 * erasure and merging never miss one. Later areas (points, segments,
 * campaigns, emails) add their tables here.
 *
 * merge "move": rows are re-pointed to the survivor; rows that would collide
 * with one the survivor already has (same primary or unique key) are dropped,
 * the survivor's wins.
 */
export const CONTACT_DATA: { table: string; column: string; merge: 'move' | 'none' }[] = [
  { table: 'contact_tags', column: 'contact_id', merge: 'move' },
  { table: 'do_not_contact', column: 'contact_id', merge: 'move' },
  { table: 'company_contacts', column: 'contact_id', merge: 'move' },
  { table: 'events', column: 'contact_id', merge: 'move' },
  { table: 'visitors', column: 'contact_id', merge: 'move' },
  { table: 'point_log', column: 'contact_id', merge: 'move' },
  { table: 'segment_members', column: 'contact_id', merge: 'move' },
  { table: 'segment_exclusions', column: 'contact_id', merge: 'move' },
  { table: 'trigger_fires', column: 'contact_id', merge: 'move' },
  { table: 'form_submissions', column: 'contact_id', merge: 'move' },
  // Ids merged into this contact, and the snapshots of those merges.
  { table: 'contact_aliases', column: 'contact_id', merge: 'none' },
  { table: 'contact_merges', column: 'survivor_id', merge: 'none' },
];

/** Statements that erase a contact and everything about it (the contact row last). */
export function eraseStatements(id: number): InStatement[] {
  return [
    // Events its visitors sent before they were attributed.
    { sql: 'DELETE FROM events WHERE visitor_id IN (SELECT id FROM visitors WHERE contact_id = ?)', args: [id] },
    // Form submissions its browsers sent anonymously.
    { sql: 'DELETE FROM form_submissions WHERE visitor_id IN (SELECT id FROM visitors WHERE contact_id = ?)', args: [id] },
    ...CONTACT_DATA.map(({ table, column }) => ({ sql: `DELETE FROM ${table} WHERE ${column} = ?`, args: [id] })),
    deleteRow(id),
  ];
}

/** Statements that move a merged contact's rows to the survivor. */
export function moveStatements(survivorId: number, mergedId: number): InStatement[] {
  return [
    // The survivor keeps its primary company; the merged one's becomes secondary.
    {
      sql: `UPDATE company_contacts SET is_primary = 0 WHERE contact_id = ?
        AND EXISTS (SELECT 1 FROM company_contacts WHERE contact_id = ? AND is_primary = 1)`,
      args: [mergedId, survivorId],
    },
    ...CONTACT_DATA.filter((t) => t.merge === 'move').flatMap(({ table, column }) => [
      { sql: `UPDATE OR IGNORE ${table} SET ${column} = ? WHERE ${column} = ?`, args: [survivorId, mergedId] },
      { sql: `DELETE FROM ${table} WHERE ${column} = ?`, args: [mergedId] },
    ]),
  ];
}
