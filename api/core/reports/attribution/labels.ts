import type { Ctx } from '../../context';
import type { Dimension } from './touches';

// Readable names of keys that are ids: a form's, focus item's, email's or campaign's name.
const NAMED: Partial<Record<Dimension, string>> = { form: 'forms', focus: 'focus_items', email: 'emails', campaign: 'campaigns' };

/** Names of the keys that name something; the key itself for the rest (and for what is gone). */
export async function labels(ctx: Ctx, dim: Dimension, keys: string[]): Promise<Map<string, string>> {
  const out = new Map(keys.map((k) => [k, k]));
  const table = NAMED[dim];
  const ids = keys.filter((k) => /^[1-9][0-9]{0,15}$/.test(k)).map(Number);
  if (!table || !ids.length) return out;
  const res = await ctx.client.execute({ sql: `SELECT id, name FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(ids)] });
  for (const r of res.rows) out.set(String(r.id), String(r.name));
  return out;
}
