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

/**
 * Recipients by contact id; contacts that no longer exist are absent. One statement, one row per
 * contact: the tags come as a JSON array (sorted by name) and the primary company (at most one:
 * company_contacts_primary_uq) by a LEFT JOIN. The send loop calls this once per provider call,
 * and every row read costs far more in the driver than in SQLite, so it reads one row a contact.
 */
export async function loadRecipients(ctx: Ctx, contactIds: number[]): Promise<Map<number, Recipient>> {
  const out = new Map<number, Recipient>();
  if (!contactIds.length) return out;
  const ids = JSON.stringify([...new Set(contactIds)]);
  const r = await ctx.client.execute({
    sql: `SELECT c.id, c.email, c.first_name, c.last_name, c.phone, c.job_title, c.city, c.country, c.custom, c.points, s.name AS stage,
        (SELECT json_group_array(name) FROM (SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = c.id ORDER BY t.name)) AS tags,
        co.id AS co_id, co.name AS co_name, co.domain AS co_domain, co.website AS co_website, co.industry AS co_industry,
        co.city AS co_city, co.country AS co_country
      FROM contacts c LEFT JOIN stages s ON s.id = c.stage_id
        LEFT JOIN company_contacts cc ON cc.contact_id = c.id AND cc.is_primary = 1
        LEFT JOIN companies co ON co.id = cc.company_id
      WHERE c.id IN (SELECT value FROM json_each(?))`,
    args: [ids],
  });
  for (const r0 of r.rows) {
    const id = Number(r0.id);
    out.set(id, {
      contact: {
        id,
        email: str(r0.email),
        first_name: str(r0.first_name),
        last_name: str(r0.last_name),
        phone: str(r0.phone),
        job_title: str(r0.job_title),
        city: str(r0.city),
        country: str(r0.country),
        fields: customOf(r0.custom),
        tags: (JSON.parse(String(r0.tags ?? '[]')) as unknown[]).map(String),
        points: Number(r0.points),
        stage: str(r0.stage),
      },
      company:
        r0.co_id === null || r0.co_id === undefined
          ? null
          : {
              name: str(r0.co_name),
              domain: str(r0.co_domain),
              website: str(r0.co_website),
              industry: str(r0.co_industry),
              city: str(r0.co_city),
              country: str(r0.co_country),
            },
    });
  }
  return out;
}

/** A recipient known only by an address (a transactional send, a test without a contact). */
export const addressOnly = (email: string | null): Recipient => ({
  contact: { id: null, email, first_name: null, last_name: null, phone: null, job_title: null, city: null, country: null, fields: {}, tags: [], points: 0, stage: null },
  company: null,
});
