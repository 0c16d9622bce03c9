import type { ContactView, DncReason } from '../contacts/contacts';
import type { ContactInput } from '../contacts/prepare';
import type { FieldError } from '../errors';
import { countryCode, countryName, type ContactField } from './fields';

/** What a contact's Mautic layout needs beyond the contact itself. */
export interface ContactExtras {
  company: string | null;
  stage: { id: number; name: string; position: number } | null;
  tagIds: Map<string, number>;
}

// Mautic's do-not-contact reasons (DoNotContact::UNSUBSCRIBED, BOUNCED, MANUAL).
const REASON_CODE: Record<DncReason, number> = { unsubscribed: 1, complained: 1, bounced: 2, manual: 3 };
export const REASON_OF_CODE: Record<number, DncReason> = { 1: 'unsubscribed', 2: 'bounced', 3: 'manual' };

function valueOf(c: ContactView, f: ContactField, x: ContactExtras): unknown {
  const t = f.target;
  switch (t.kind) {
    case 'column': {
      const v = c[t.key];
      return t.key === 'country' && v ? countryName(v) : v;
    }
    case 'company':
      return x.company;
    case 'points':
      return c.points;
    case 'last_active':
      return c.last_active_at;
    case 'custom': {
      const v = Object.hasOwn(c.fields, t.def.key) ? c.fields[t.def.key] : null;
      // Mautic keeps a multiselect as "a|b".
      if (Array.isArray(v)) return v.join('|');
      return t.def.type === 'country' && typeof v === 'string' ? countryName(v) : (v ?? null);
    }
    default:
      return null;
  }
}

/** A Leadline contact in Mautic's layout (LeadApiController's `contact`). */
export function mauticContact(c: ContactView, fields: ContactField[], x: ContactExtras) {
  const groups: Record<string, Record<string, unknown>> = { core: {}, social: {}, personal: {}, professional: {} };
  const all: Record<string, unknown> = { id: c.id };
  for (const f of fields) {
    const value = valueOf(c, f, x);
    all[f.alias] = value;
    (groups[f.group] ??= {})[f.alias] = { id: String(f.id), label: f.label, alias: f.alias, type: f.type, group: f.group, object: 'lead', is_fixed: f.target.kind !== 'custom' && f.target.kind !== 'none', value };
  }
  // PHP serialises an empty group as a list.
  const grouped = Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, Object.keys(v).length ? v : []]));
  return {
    isPublished: true,
    dateAdded: c.created_at,
    dateModified: c.updated_at,
    createdBy: null,
    createdByUser: null,
    modifiedBy: null,
    modifiedByUser: null,
    id: c.id,
    points: c.points,
    color: null,
    fields: { ...grouped, all },
    lastActive: c.last_active_at,
    owner: null,
    ipAddresses: [],
    tags: c.tags.map((t) => ({ id: x.tagIds.get(t) ?? null, tag: t })),
    utmtags: [],
    stage: x.stage ? { id: x.stage.id, name: x.stage.name, weight: x.stage.position, description: null, isPublished: true } : null,
    // Leadline contacts are created when they become known (an email, an import, the API).
    dateIdentified: c.email ? c.created_at : null,
    preferredProfileImage: 'gravatar',
    doNotContact: c.do_not_contact.map((d) => ({ id: null, reason: REASON_CODE[d.reason], comments: d.comment ?? '', channel: d.channel, channelId: null, dateAdded: d.created_at })),
    frequencyRules: [],
  };
}

/** A contact written through the Mautic API, split into what each Leadline function takes. */
export interface MappedContact {
  input: ContactInput & { fields: Record<string, unknown> };
  /** The primary company's name: null unlinks nothing (Leadline keeps links), a name links it. */
  company?: string;
  tagsToRemove: string[];
  stage?: number | null;
  dnc: { channel: string; reason: number; comments: string | null }[];
  errors: FieldError[];
}

const COLUMN_MAX: Record<string, number> = { email: 254, first_name: 100, last_name: 100, phone: 40, job_title: 120, city: 100, country: 60 };

function splitTags(v: unknown, errors: FieldError[]): { add: string[]; remove: string[] } {
  const list = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : null;
  if (!list || list.length > 50 || list.some((t) => typeof t !== 'string' && typeof t !== 'number')) {
    errors.push({ field: 'tags', message: 'must be a list of at most 50 tags, or a comma-separated string' });
    return { add: [], remove: [] };
  }
  const names = list.map((t) => String(t).trim()).filter(Boolean);
  return { add: names.filter((t) => !t.startsWith('-')), remove: names.filter((t) => t.startsWith('-')).map((t) => t.slice(1).trim()).filter(Boolean) };
}

/**
 * Maps a Mautic contact body (field aliases at the top level, plus tags, stage, doNotContact)
 * to Leadline's contact input. Blank values are skipped unless `overwriteWithBlank` is set
 * (then they clear), as Mautic does. `replace` (PUT) clears every field the body does not give.
 * Parameters Leadline has no place for (owner, ipAddress, lastActive, unknown aliases) are ignored, as
 * Mautic ignores extra fields.
 */
export function mapContactBody(body: Record<string, unknown>, fields: ContactField[], opts: { replace: boolean }): MappedContact {
  const errors: FieldError[] = [];
  const input: MappedContact['input'] = { fields: {} };
  const out: MappedContact = { input, tagsToRemove: [], dnc: [], errors };
  const blankClears = opts.replace || body.overwriteWithBlank === true || body.overwriteWithBlank === 1 || body.overwriteWithBlank === '1' || body.overwriteWithBlank === 'true';
  if (opts.replace) {
    for (const f of fields) {
      if (f.target.kind === 'column') input[f.target.key] = null;
      else if (f.target.kind === 'custom') input.fields[f.target.def.key] = null;
    }
  }
  const byAlias = new Map(fields.map((f) => [f.alias, f]));
  for (const [key, raw] of Object.entries(body)) {
    if (key === 'tags') {
      const { add, remove } = splitTags(raw, errors);
      if (add.length) input.tags = add;
      out.tagsToRemove = remove;
      continue;
    }
    if (key === 'stage') {
      if (raw === null || raw === '') out.stage = blankClears ? null : undefined;
      else if (typeof raw === 'object' && raw !== null && Number.isSafeInteger((raw as { id?: unknown }).id)) out.stage = (raw as { id: number }).id;
      else if (/^[1-9][0-9]{0,14}$/.test(String(raw))) out.stage = Number(raw);
      else errors.push({ field: 'stage', message: 'must be a stage id' });
      continue;
    }
    if (key === 'doNotContact') {
      if (!Array.isArray(raw) || raw.length > 10) {
        errors.push({ field: 'doNotContact', message: 'must be a list of {channel, reason, comments}' });
        continue;
      }
      for (const [i, d] of raw.entries()) {
        const e = (d ?? {}) as Record<string, unknown>;
        const reason = e.reason === undefined ? 3 : Number(e.reason);
        if (!Number.isInteger(reason) || reason < 0 || reason > 3) errors.push({ field: `doNotContact.${i}.reason`, message: 'must be 0 (contactable), 1, 2 or 3' });
        else out.dnc.push({ channel: typeof e.channel === 'string' && e.channel ? e.channel : 'email', reason, comments: typeof e.comments === 'string' ? e.comments : null });
      }
      continue;
    }
    const f = byAlias.get(key);
    if (!f || f.target.kind === 'none' || f.target.kind === 'points' || f.target.kind === 'last_active') continue;
    let v: unknown = raw;
    if (v === null || (typeof v === 'string' && v.trim() === '')) {
      if (!blankClears) continue;
      v = null;
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      // Mautic takes any scalar for a text field.
      if (f.target.kind !== 'custom' || ['text', 'textarea', 'tel', 'email', 'url', 'select', 'country'].includes(f.target.def.type)) v = String(v);
    }
    if (f.target.kind === 'company') {
      if (v === null) continue;
      if (typeof v !== 'string' || v.trim().length > 200) errors.push({ field: 'company', message: 'must be a company name of at most 200 characters' });
      else out.company = v.trim();
      continue;
    }
    if (f.target.kind === 'column') {
      if (typeof v === 'string') {
        if (v.length > COLUMN_MAX[f.target.key]!) {
          errors.push({ field: key, message: `must be at most ${COLUMN_MAX[f.target.key]} characters` });
          continue;
        }
        if (f.target.key === 'country') v = countryCode(v);
      }
      input[f.target.key] = v as string | null;
      continue;
    }
    const def = f.target.def;
    if (typeof v === 'string' && def.type === 'multiselect') v = v.split('|').map((s) => s.trim()).filter(Boolean);
    if (typeof v === 'string' && def.type === 'country') v = countryCode(v);
    input.fields[def.key] = v;
  }
  return out;
}
