import type { Ctx } from '../context';

/**
 * What a template may say about its recipient, read for many contacts at once (a send loop
 * renders up to a hundred messages per round): the contact's built-in and custom fields, tags,
 * points and stage, and its primary company.
 */
export interface Recipient {
  contact: Record<string, unknown>;
  company: Record<string, unknown> | null;
}

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));

function customOf(text: unknown): Record<string, unknown> {
  try {
    const obj = JSON.parse(String(text ?? '{}')) as Record<string, unknown>;
    // A cleared custom field is stored as JSON null: no value.
    for (const k of Object.keys(obj)) if (obj[k] === null) delete obj[k];
    return obj;
  } catch {
    return {};
  }
}

/** Recipients by contact id; contacts that no longer exist are absent. */
export async function loadRecipients(ctx: Ctx, contactIds: number[]): Promise<Map<number, Recipient>> {
  const out = new Map<number, Recipient>();
  if (!contactIds.length) return out;
  const ids = JSON.stringify([...new Set(contactIds)]);
  const [contacts, tags, companies] = await ctx.client.batch(
    [
      {
        sql: `SELECT c.id, c.email, c.first_name, c.last_name, c.phone, c.job_title, c.city, c.country, c.custom, c.points, s.name AS stage
          FROM contacts c LEFT JOIN stages s ON s.id = c.stage_id WHERE c.id IN (SELECT value FROM json_each(?))`,
        args: [ids],
      },
      {
        sql: `SELECT ct.contact_id, t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id
          WHERE ct.contact_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
        args: [ids],
      },
      {
        sql: `SELECT cc.contact_id, co.name, co.domain, co.website, co.industry, co.city, co.country
          FROM company_contacts cc JOIN companies co ON co.id = cc.company_id
          WHERE cc.is_primary = 1 AND cc.contact_id IN (SELECT value FROM json_each(?))`,
        args: [ids],
      },
    ],
    'read',
  );
  const tagsOf = new Map<number, string[]>();
  for (const r of tags!.rows) {
    const id = Number(r.contact_id);
    (tagsOf.get(id) ?? tagsOf.set(id, []).get(id)!).push(String(r.name));
  }
  const companyOf = new Map<number, Record<string, unknown>>();
  for (const r of companies!.rows) {
    companyOf.set(Number(r.contact_id), {
      name: str(r.name),
      domain: str(r.domain),
      website: str(r.website),
      industry: str(r.industry),
      city: str(r.city),
      country: str(r.country),
    });
  }
  for (const r of contacts!.rows) {
    const id = Number(r.id);
    out.set(id, {
      contact: {
        id,
        email: str(r.email),
        first_name: str(r.first_name),
        last_name: str(r.last_name),
        phone: str(r.phone),
        job_title: str(r.job_title),
        city: str(r.city),
        country: str(r.country),
        fields: customOf(r.custom),
        tags: tagsOf.get(id) ?? [],
        points: Number(r.points),
        stage: str(r.stage),
      },
      company: companyOf.get(id) ?? null,
    });
  }
  return out;
}

/** A recipient known only by an address (a transactional send, a test without a contact). */
export const addressOnly = (email: string | null): Recipient => ({
  contact: { id: null, email, first_name: null, last_name: null, phone: null, job_title: null, city: null, country: null, fields: {}, tags: [], points: 0, stage: null },
  company: null,
});
