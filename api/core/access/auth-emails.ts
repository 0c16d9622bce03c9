import type { Ctx } from '../context';
import { createEmail } from '../email/emails';
import { queueStatement } from '../email/queue';
import { getEmailSettings } from '../email/settings';
import { kickSendLoop } from '../email/loop';

/**
 * The messages Leadline sends to its own users (invitations, password resets) go out like every
 * other email: a send row first, then the send loop through Resend or, on a fresh install, into
 * the local outbox. Their content lives here, as transactional emails Leadline writes itself
 * (ids kept in app_state under SYSTEM_EMAILS_KEY): the email routes neither list them nor let
 * anyone change or delete them (core/email/emails.ts), since a template that could be edited
 * could carry the sign-in link elsewhere. Their sends have reasons starting "auth:", and the
 * outbox shows them to admins only (core/email/outbox.ts). Their links go to /app/…, which
 * click tracking leaves alone (core/email/track-links.ts).
 */
export const SYSTEM_EMAILS_KEY = 'system_emails';
/** Sends of sign-in messages: their reason starts with this. */
export const AUTH_REASON_PREFIX = 'auth:';

export type AuthMessage = 'invite' | 'reset';

const wrap = (body: string) =>
  `<!doctype html><html><body style="font-family:system-ui,sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a">${body}</body></html>`;

const button = '<p><a href="{{ link }}" style="display:inline-block;padding:10px 18px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:6px">';

const CONTENT: Record<AuthMessage, { name: string; subject: string; html: string; text: string }> = {
  invite: {
    name: 'Leadline: invitation (sign-in message)',
    subject: "You're invited to Leadline",
    html: wrap(
      `<p>Hello,</p><p>{{ inviter }} invited you to Leadline as <strong>{{ role }}</strong>.</p>${button}Accept the invitation</a></p><p>The link works once and expires on {{ expires }}. If you did not expect this, ignore this email.</p>`,
    ),
    text: "Hello,\n\n{{ inviter }} invited you to Leadline as {{ role }}.\n\nAccept the invitation: {{ link }}\n\nThe link works once and expires on {{ expires }}. If you did not expect this, ignore this email.\n",
  },
  reset: {
    name: 'Leadline: password reset (sign-in message)',
    subject: 'Reset your Leadline password',
    html: wrap(
      `<p>Hello {{ name }},</p><p>Someone asked to reset the password of your Leadline account.</p>${button}Choose a new password</a></p><p>The link works once and expires on {{ expires }}. If it was not you, ignore this email: your password stays as it is.</p>`,
    ),
    text: 'Hello {{ name }},\n\nSomeone asked to reset the password of your Leadline account.\n\nChoose a new password: {{ link }}\n\nThe link works once and expires on {{ expires }}. If it was not you, ignore this email: your password stays as it is.\n',
  },
};

async function storedIds(ctx: Ctx): Promise<Partial<Record<AuthMessage, number>>> {
  const r = await ctx.client.execute({ sql: 'SELECT value FROM app_state WHERE key = ?', args: [SYSTEM_EMAILS_KEY] });
  return r.rows[0] ? (JSON.parse(String(r.rows[0].value)) as Partial<Record<AuthMessage, number>>) : {};
}

/** The email row of a sign-in message, written on first use (and again if it went missing). */
async function systemEmailId(ctx: Ctx, kind: AuthMessage): Promise<number> {
  const known = (await storedIds(ctx))[kind];
  if (known !== undefined) {
    const r = await ctx.client.execute({ sql: 'SELECT id FROM emails WHERE id = ?', args: [known] });
    if (r.rows[0]) return known;
  }
  const c = CONTENT[kind];
  const made = await createEmail({ ctx, input: { name: c.name, kind: 'transactional', subject: c.subject, html: c.html, text: c.text } });
  // json_set: the other kind's id stays. (Two first uses racing each write a row; the last one
  // recorded is used, the other stays an ordinary transactional email.)
  await ctx.client.execute({
    sql: `INSERT INTO app_state (key, value) VALUES (?1, json_object(?2, ?3))
      ON CONFLICT(key) DO UPDATE SET value = json_set(value, '$.' || ?2, ?3)`,
    args: [SYSTEM_EMAILS_KEY, kind, made.id],
  });
  return made.id;
}

/**
 * Queues one sign-in message to `to` (no contact: users are not contacts) and asks the send loop
 * to run; the promise it answers is that run, for the route to defer.
 */
export async function sendAuthEmail(
  ctx: Ctx,
  input: { kind: AuthMessage; to: string; reason: string; variables: Record<string, string> },
): Promise<{ sending: Promise<void> }> {
  const emailId = await systemEmailId(ctx, input.kind);
  const now = ctx.now();
  await ctx.client.execute(
    queueStatement({
      email: { id: emailId, kind: 'transactional', categoryId: null },
      reason: `${AUTH_REASON_PREFIX}${input.reason}`,
      recipients: { sql: 'SELECT NULL AS contact_id, ? AS addr', args: [input.to] },
      settings: await getEmailSettings({ ctx }),
      now,
      variables: input.variables,
    }),
  );
  return { sending: kickSendLoop(ctx) };
}

/**
 * Once a link was used (or replaced), its send row no longer needs the link it rendered: the
 * variables are cleared on sends already made, so the database keeps no live sign-in link.
 */
export async function forgetLinks(ctx: Ctx, reasons: string[]): Promise<void> {
  if (!reasons.length) return;
  await ctx.client.execute({
    sql: `UPDATE email_sends SET variables = NULL WHERE reason IN (SELECT ? || value FROM json_each(?)) AND status IN ('sent', 'skipped', 'failed')`,
    args: [AUTH_REASON_PREFIX, JSON.stringify(reasons)],
  });
}
