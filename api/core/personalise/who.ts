import type { Ctx } from '../context';
import { CORE_COLUMNS, CORE_FIELDS } from '../contacts/values';
import { provenContact, visitorRef } from '../tracking/visitors';

/**
 * Who a browser is, for personalisation: the values its tokens may show, or null (every token
 * shows its default). The only input is the browser's own random visitor id (the `ll_vid`
 * cookie on /p/{slug}; the id the tracker sends to GET /focus), looked up for the page's or
 * slot's site. A contact id or an email in the request is never an input: they are guessable.
 *
 * DESIGN.md ("Identity") tells three kinds of browser apart, and so does this:
 *
 * - proven (signed identify, a signed email click, an API link: visitors.proven_at, decided in
 *   contacts/resolve.ts): every field tokens may show, from its contact — the built-in fields
 *   and custom fields, never ids, points, stage or tags.
 * - claimed (it submitted a form): the issue names a form submission as proof, but anyone can type
 *   someone else's email into a form, so a submission proves nothing. Such a browser gets back
 *   only the values it itself submitted (its latest value per field, from its own submissions):
 *   echoing what this browser typed reveals nothing it did not know. Never another field of the
 *   contact it claimed, and never the contact's value where it differs from what was typed.
 * - unproven (anonymous, or an id that is not a visitor of this site): null.
 */

export type Proof = 'proven' | 'claimed';

export interface Viewer {
  proof: Proof;
  /** Token field (`first_name`, `fields.<key>`) → the text to show. */
  values: ReadonlyMap<string, string>;
}

const VISITOR_ID = /^[A-Za-z0-9_-]{16,64}$/;
// A browser's own submissions read for its values, newest first.
const SUBMISSIONS = 10;

/** A stored value as text on a page: lists joined, nothing for what has no text. */
function asText(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const items = v.filter((x) => typeof x === 'string' || typeof x === 'number').map(String);
    return items.length ? items.join(', ') : null;
  }
  return null;
}

function parseObject(s: unknown): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(String(s ?? '{}'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The contact's fields tokens may show, from its columns read as c_<column> beside the visitor's. */
function contactValues(row: Record<string, unknown>): Map<string, string> {
  const values = new Map<string, string>();
  for (const c of CORE_COLUMNS) {
    const v = asText(row[`c_${c}`]);
    if (v !== null) values.set(c, v);
  }
  for (const [k, raw] of Object.entries(parseObject(row.c_custom))) {
    const v = asText(raw);
    if (v !== null) values.set(`fields.${k}`, v);
  }
  return values;
}

/** The token field a form field's `maps_to` names, or null (not a contact field). */
function tokenField(mapsTo: unknown): string | null {
  if (typeof mapsTo !== 'string') return null;
  if (mapsTo.startsWith('fields.')) return /^fields\.[a-z][a-z0-9_]{0,62}$/.test(mapsTo) ? mapsTo : null;
  return Object.hasOwn(CORE_FIELDS, mapsTo) ? mapsTo : null;
}

/** What this browser itself submitted, by the contact field each value went to; the newest value wins. */
async function submittedValues(ctx: Ctx, visitorId: number): Promise<Map<string, string>> {
  const r = await ctx.client.execute({
    sql: `SELECT s."values" AS vals, f.definition AS def FROM form_submissions s JOIN forms f ON f.id = s.form_id
      WHERE s.visitor_id = ? ORDER BY s.id DESC LIMIT ${SUBMISSIONS}`,
    args: [visitorId],
  });
  const values = new Map<string, string>();
  for (const row of r.rows) {
    const submitted = parseObject(row.vals);
    const fields = parseObject(row.def).fields;
    if (!Array.isArray(fields)) continue;
    for (const f of fields as { key?: unknown; maps_to?: unknown }[]) {
      const target = tokenField(f?.maps_to);
      if (target === null || values.has(target) || typeof f.key !== 'string' || !Object.hasOwn(submitted, f.key)) continue;
      const v = asText(submitted[f.key]);
      if (v !== null) values.set(target, v);
    }
  }
  return values;
}

const BROWSER_SQL = `SELECT v.id, v.contact_id, v.proven_at, c.id AS c_id, ${CORE_COLUMNS.map((col) => `c.${col} AS c_${col}`).join(', ')}, c.custom AS c_custom
  FROM visitors v LEFT JOIN contacts c ON c.id = v.contact_id AND v.proven_at IS NOT NULL WHERE v.site_id = ? AND v.uid = ?`;

/** The viewer a browser is on a site, from its own visitor id only; null when it is nobody we may show anything to. */
export async function who(ctx: Ctx, input: { siteId: number; uid: string | null | undefined }): Promise<Viewer | null> {
  if (!input.uid || !VISITOR_ID.test(input.uid)) return null;
  // The visitor and, when it is proven, its contact: one read.
  const r = await ctx.client.execute({ sql: BROWSER_SQL, args: [input.siteId, input.uid] });
  const row = r.rows[0];
  if (!row) return null;
  const visitor = visitorRef(row);
  if (provenContact(visitor) !== null) return row.c_id === null ? null : { proof: 'proven', values: contactValues(row) };
  const values = await submittedValues(ctx, visitor.id);
  return values.size ? { proof: 'claimed', values } : null;
}
