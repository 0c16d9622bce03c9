import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { iso } from '../util/time';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { compileSources } from './render';
import { DEFAULT_CATEGORY_KEY } from './categories';
import { isMarketing, type EmailInput, type EmailKind, type EmailPatch } from './schema';

/** An email as stored, for the code that renders and sends it. */
export interface EmailRecord {
  id: number;
  name: string;
  kind: EmailKind;
  subject: string;
  preheader: string | null;
  fromName: string | null;
  fromAddress: string | null;
  replyTo: string | null;
  html: string;
  text: string | null;
  htmlCompiled: string;
  textCompiled: string;
  categoryId: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface EmailView {
  id: number;
  name: string;
  kind: EmailKind;
  subject: string;
  preheader: string | null;
  from_name: string | null;
  from_email: string | null;
  reply_to: string | null;
  html: string;
  text: string | null;
  category_id: number | null;
  created_at: string;
  updated_at: string;
}

const s = (v: unknown) => (v === null || v === undefined ? null : String(v));

export function emailRecord(r: Row): EmailRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    kind: String(r.kind) as EmailKind,
    subject: String(r.subject),
    preheader: s(r.preheader),
    fromName: s(r.from_name),
    fromAddress: s(r.from_address),
    replyTo: s(r.reply_to),
    html: String(r.html),
    text: s(r.text),
    htmlCompiled: String(r.html_compiled),
    textCompiled: String(r.text_compiled),
    categoryId: r.category_id === null ? null : Number(r.category_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export const emailView = (e: EmailRecord): EmailView => ({
  id: e.id,
  name: e.name,
  kind: e.kind,
  subject: e.subject,
  preheader: e.preheader,
  from_name: e.fromName,
  from_email: e.fromAddress,
  reply_to: e.replyTo,
  html: e.html,
  text: e.text,
  category_id: e.categoryId,
  created_at: iso(e.createdAt)!,
  updated_at: iso(e.updatedAt)!,
});

/** SQL: the email (column `id`) is not one of Leadline's own sign-in messages (ids in app_state 'system_emails', access/auth-emails.ts SYSTEM_EMAILS_KEY; not imported: that module imports this one). The Mautic API's email list leaves them out too. */
export const NOT_SYSTEM = "id NOT IN (SELECT j.value FROM app_state s, json_each(s.value) j WHERE s.key = 'system_emails')";

/**
 * Invitations and password resets carry sign-in links: whoever could edit their template could
 * send the link elsewhere (an image URL), so nobody edits or deletes them through the API.
 */
async function refuseSystemEmail(ctx: Ctx, id: number): Promise<void> {
  const r = await ctx.client.execute({ sql: `SELECT ${NOT_SYSTEM.replace('id NOT IN', '? IN')} AS system`, args: [id] });
  if (Number(r.rows[0]?.system)) throw new ForbiddenError("This is one of Leadline's own sign-in messages (invitation, password reset); it cannot be changed or deleted.");
}

export async function loadEmail(ctx: Ctx, id: number): Promise<EmailRecord> {
  const r = await ctx.client.execute({ sql: 'SELECT * FROM emails WHERE id = ?', args: [id] });
  if (!r.rows[0]) throw new NotFoundError('Email');
  return emailRecord(r.rows[0]);
}

/** The category an email of this kind gets: the one given (it must exist), else the default for marketing. */
async function categoryFor(ctx: Ctx, kind: EmailKind, given: number | null | undefined): Promise<number | null> {
  if (given) {
    const r = await ctx.client.execute({ sql: 'SELECT id FROM email_categories WHERE id = ?', args: [given] });
    if (!r.rows[0]) throw new ValidationError([{ field: 'category_id', message: 'no such email category' }]);
    return given;
  }
  if (given === null || !isMarketing(kind)) return null;
  const r = await ctx.client.execute({ sql: 'SELECT id FROM email_categories WHERE key = ?', args: [DEFAULT_CATEGORY_KEY] });
  return r.rows[0] ? Number(r.rows[0].id) : null;
}

type Stored = Omit<EmailRecord, 'id' | 'createdAt' | 'updatedAt'>;

async function prepare(ctx: Ctx, v: Omit<Stored, 'htmlCompiled' | 'textCompiled' | 'categoryId'>, category: number | null | undefined): Promise<Stored> {
  const { htmlCompiled, textCompiled } = await compileSources({ subject: v.subject, preheader: v.preheader, html: v.html, text: v.text });
  return { ...v, htmlCompiled, textCompiled, categoryId: await categoryFor(ctx, v.kind, category) };
}

const COLUMNS: [keyof Stored, string][] = [
  ['name', 'name'],
  ['kind', 'kind'],
  ['subject', 'subject'],
  ['preheader', 'preheader'],
  ['fromName', 'from_name'],
  ['fromAddress', 'from_address'],
  ['replyTo', 'reply_to'],
  ['html', 'html'],
  ['text', 'text'],
  ['htmlCompiled', 'html_compiled'],
  ['textCompiled', 'text_compiled'],
  ['categoryId', 'category_id'],
];

/** Saves a new email; a template error is a 422 naming the field and line, found now rather than mid-send. */
export async function createEmail({ ctx, input }: { ctx: Ctx; input: EmailInput }): Promise<EmailView> {
  const v = await prepare(
    ctx,
    {
      name: input.name,
      kind: input.kind,
      subject: input.subject,
      preheader: input.preheader || null,
      fromName: input.from_name || null,
      fromAddress: input.from_email || null,
      replyTo: input.reply_to || null,
      html: input.html,
      text: input.text ?? null,
    },
    input.category_id,
  );
  const now = ctx.now();
  const r = await ctx.client.execute({
    sql: `INSERT INTO emails (${COLUMNS.map(([, c]) => c).join(', ')}, created_at, updated_at)
      VALUES (${COLUMNS.map(() => '?').join(', ')}, ?, ?) RETURNING *`,
    args: [...COLUMNS.map(([k]) => v[k]), now, now],
  });
  return emailView(emailRecord(r.rows[0]!));
}

export async function getEmail({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<EmailView> {
  return emailView(await loadEmail(ctx, input.id));
}

export async function listEmails({ ctx, input }: { ctx: Ctx; input: PageInput & { kind?: EmailKind } }): Promise<Page<EmailView>> {
  const a = after(input.cursor, null, 'id', true);
  // Leadline's own sign-in messages (core/access/auth-emails.ts) are not the marketers' to list.
  const where = [a.sql, NOT_SYSTEM];
  const args: (string | number)[] = [...a.args];
  if (input.kind) where.push('kind = ?'), args.push(input.kind);
  const r = await ctx.client.execute({ sql: `SELECT * FROM emails WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, args: [...args, input.limit + 1] });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], (x) => emailView(emailRecord(x)));
}

export async function updateEmail({ ctx, input }: { ctx: Ctx; input: { id: number; patch: EmailPatch } }): Promise<EmailView> {
  const cur = await loadEmail(ctx, input.id);
  await refuseSystemEmail(ctx, input.id);
  const p = input.patch;
  const pick = <T>(given: T | undefined, current: T) => (given === undefined ? current : given);
  const kind = pick(p.kind, cur.kind);
  const v = await prepare(
    ctx,
    {
      name: pick(p.name, cur.name),
      kind,
      subject: pick(p.subject, cur.subject),
      preheader: p.preheader === undefined ? cur.preheader : p.preheader || null,
      fromName: p.from_name === undefined ? cur.fromName : p.from_name || null,
      fromAddress: p.from_email === undefined ? cur.fromAddress : p.from_email || null,
      replyTo: p.reply_to === undefined ? cur.replyTo : p.reply_to || null,
      html: pick(p.html, cur.html),
      text: p.text === undefined ? cur.text : p.text,
    },
    // A kind change re-decides the default; otherwise the category stays.
    p.category_id !== undefined ? p.category_id : p.kind !== undefined && p.kind !== cur.kind ? undefined : cur.categoryId,
  );
  // updated_at also versions the parsed-template cache, so it must move on every save.
  const now = Math.max(ctx.now(), cur.updatedAt + 1);
  const r = await ctx.client.execute({
    sql: `UPDATE emails SET ${COLUMNS.map(([, c]) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ? RETURNING *`,
    args: [...COLUMNS.map(([k]) => v[k]), now, input.id],
  });
  if (!r.rows[0]) throw new NotFoundError('Email');
  return emailView(emailRecord(r.rows[0]));
}

/** Refused while sends of it are still to go out; sends already made keep their rows (history and reports). */
export async function deleteEmail({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  await refuseSystemEmail(ctx, input.id);
  const busy = await ctx.client.execute({
    sql: `SELECT (SELECT count(*) FROM email_sends WHERE email_id = ? AND status IN ('pending', 'sending')) AS sends,
      (SELECT count(*) FROM email_broadcasts WHERE email_id = ? AND status IN ('draft', 'scheduled', 'sending')) AS broadcasts`,
    args: [input.id, input.id],
  });
  const { sends, broadcasts } = busy.rows[0]!;
  if (Number(sends)) throw new ConflictError(`${sends} send(s) of this email are still to go out; wait for them first.`);
  if (Number(broadcasts)) throw new ConflictError(`${broadcasts} broadcast(s) of this email are not finished; cancel them first.`);
  const r = await ctx.client.execute({
    sql: `DELETE FROM emails WHERE id = ? AND NOT EXISTS (SELECT 1 FROM email_sends WHERE email_id = ? AND status IN ('pending', 'sending'))`,
    args: [input.id, input.id],
  });
  if (r.rowsAffected === 0) {
    await loadEmail(ctx, input.id);
    throw new ConflictError('Sends of this email are still to go out; wait for them first.');
  }
}
