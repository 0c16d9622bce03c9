import type { InStatement } from '@libsql/client';
import type { Ctx } from '../context';
import type { FieldError } from '../errors';
import { loadFieldDefs, type FieldDef } from './fields';
import { CORE_COLUMNS, prepareContact, type PreparedContact } from './prepare';
import { insertWithoutEmail, upsertByEmail } from './writes';

export type RowResult =
  | { index: number; status: 'created' | 'updated'; id: number }
  | { index: number; status: 'rejected'; errors: FieldError[] };

export interface UpsertSummary {
  created: number;
  updated: number;
  rejected: number;
  results: RowResult[];
}

export const MAX_BATCH = 1000;

interface Pending {
  indexes: number[];
  p: PreparedContact;
}

function mergeInto(a: PreparedContact, b: PreparedContact) {
  Object.assign(a.cols, b.cols);
  if (b.custom) a.custom = { ...(a.custom ?? {}), ...b.custom };
  a.tags = [...new Set([...a.tags, ...b.tags])];
}

// The set of given columns decides the DO UPDATE clause, so rows are grouped by it.
function signature(p: PreparedContact): string {
  return CORE_COLUMNS.filter((c) => c in p.cols).join(',') + (p.custom ? '|custom' : '');
}

/**
 * Creates or updates contacts, matching on the normalised email. All valid rows
 * are written in one transaction; invalid rows are reported and not written.
 */
export async function upsertContacts({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { rows: unknown[]; lenient?: boolean; addTags?: string[]; defs?: Map<string, FieldDef> };
}): Promise<UpsertSummary> {
  const defs = input.defs ?? (await loadFieldDefs(ctx));
  const results: RowResult[] = new Array(input.rows.length);
  const byEmail = new Map<string, Pending>();
  const noEmail: Pending[] = [];
  input.rows.forEach((raw, index) => {
    const r = prepareContact(raw, defs, { lenient: input.lenient });
    if (!r.ok) {
      results[index] = { index, status: 'rejected', errors: r.errors };
      return;
    }
    const p = r.value;
    if (input.addTags?.length) p.tags = [...new Set([...p.tags, ...input.addTags])];
    if (p.emailNorm) {
      const seen = byEmail.get(p.emailNorm);
      if (seen) {
        mergeInto(seen.p, p);
        seen.indexes.push(index);
      } else byEmail.set(p.emailNorm, { indexes: [index], p });
    } else noEmail.push({ indexes: [index], p });
  });

  const now = ctx.now();
  const emails = [...byEmail.keys()];
  const emailsJson = JSON.stringify(emails);
  const allTags = [...new Set([...byEmail.values(), ...noEmail].flatMap((x) => x.p.tags))];
  const stmts: InStatement[] = [];
  stmts.push({ sql: 'SELECT email_normalized FROM contacts WHERE email_normalized IN (SELECT value FROM json_each(?))', args: [emailsJson] });
  if (allTags.length) {
    stmts.push({
      sql: 'INSERT INTO tags (name, created_at) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT(name) DO NOTHING',
      args: [now, JSON.stringify(allTags)],
    });
  }
  const groups = new Map<string, PreparedContact[]>();
  for (const { p } of byEmail.values()) {
    const key = signature(p);
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  for (const g of groups.values()) stmts.push(upsertByEmail(g, now));
  const pairs = [...byEmail.entries()].flatMap(([email, { p }]) => p.tags.map((t) => [email, t]));
  if (pairs.length) {
    stmts.push({
      sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at)
        SELECT c.id, t.id, ? FROM json_each(?) j
        JOIN contacts c ON c.email_normalized = json_extract(j.value, '$[0]')
        JOIN tags t ON t.name = json_extract(j.value, '$[1]')
        WHERE true ON CONFLICT DO NOTHING`,
      args: [now, JSON.stringify(pairs)],
    });
  }
  const noEmailAt: number[] = [];
  for (const { p } of noEmail) {
    noEmailAt.push(stmts.length);
    stmts.push(insertWithoutEmail(p, now));
    if (p.tags.length) {
      stmts.push({
        sql: `INSERT INTO contact_tags (contact_id, tag_id, created_at)
          SELECT last_insert_rowid(), id, ? FROM tags WHERE name IN (SELECT value FROM json_each(?))`,
        args: [now, JSON.stringify(p.tags)],
      });
    }
  }
  const idsAt = stmts.length;
  stmts.push({ sql: 'SELECT id, email_normalized FROM contacts WHERE email_normalized IN (SELECT value FROM json_each(?))', args: [emailsJson] });

  const out = await ctx.client.batch(stmts, 'write');
  const existed = new Set(out[0]!.rows.map((r) => String(r.email_normalized)));
  const ids = new Map(out[idsAt]!.rows.map((r) => [String(r.email_normalized), Number(r.id)]));
  for (const [email, { indexes }] of byEmail) {
    const id = ids.get(email)!;
    indexes.forEach((index, i) => {
      results[index] = { index, status: existed.has(email) || i > 0 ? 'updated' : 'created', id };
    });
  }
  noEmail.forEach(({ indexes }, k) => {
    const id = Number(out[noEmailAt[k]!]!.rows[0]!.id);
    results[indexes[0]!] = { index: indexes[0]!, status: 'created', id };
  });
  const summary: UpsertSummary = { created: 0, updated: 0, rejected: 0, results };
  for (const r of results) summary[r.status]++;
  return summary;
}
