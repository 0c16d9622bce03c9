import type { Ctx } from '../context';
import { ValidationError } from '../errors';
import { resolveContactId } from '../contacts/contacts';
import { loadEmail, type EmailRecord } from './emails';
import { parsedEmail, parsedSubject, renderParts } from './render';
import { addressOnly, loadRecipients, type Recipient } from './recipients';
import { isMarketing } from './schema';
import { recipientLinks, type LinkTarget } from './links';
import { applyHooks, type MessageContext, type OutgoingMessage } from './hooks';
import { escapeHtml } from '../util/html';

/** EMAIL_FROM split into name and address ("Name <address>" or an address). */
export function defaultSender(config: Ctx['config']): { name: string | null; address: string } {
  const m = /^(.*)<([^<>]+)>\s*$/.exec(config.EMAIL_FROM);
  if (!m) return { name: null, address: config.EMAIL_FROM.trim() };
  const name = m[1]!.trim().replace(/^"(.*)"$/, '$1').trim();
  return { name: name || null, address: m[2]!.trim() };
}

/** A From header: the name quoted when it holds characters that mean something in an address. */
export function formatSender(name: string | null, address: string): string {
  if (!name) return address;
  const quoted = /[^\w !#$%&'*+\-/=?^`{|}~.]/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name;
  return `${quoted} <${address}>`;
}

export function senderOf(ctx: Ctx, email: EmailRecord): string {
  const fallback = defaultSender(ctx.config);
  return formatSender(email.fromName ?? (email.fromAddress ? null : fallback.name), email.fromAddress ?? fallback.address);
}

/**
 * Every marketing email shows a way out in its body. A template that puts `{{ unsubscribe_url }}`
 * (or `{{ preferences_url }}`, which starts with it) somewhere has placed it; otherwise a small
 * footer with the link is added to the HTML (before </body> when there is one) and to the text.
 * The footer is the same for the same link, so a re-sent message keeps its bytes.
 */
export function withUnsubscribeFooter<T extends { html: string; text: string }>(parts: T, url: string): T {
  let { html, text } = parts;
  if (!html.includes(url) && !html.includes(escapeHtml(url))) {
    const footer = `<p style="font-size:12px;line-height:1.5;color:#666666;margin:24px 0 0">Don't want these emails? <a href="${escapeHtml(url)}" style="color:#666666">Unsubscribe or choose what you get</a>.</p>`;
    const end = html.search(/<\/body\s*>/i);
    html = end < 0 ? `${html}\n${footer}` : `${html.slice(0, end)}${footer}\n${html.slice(end)}`;
  }
  if (!text.includes(url)) text = `${text.replace(/\s+$/, '')}\n\n--\nUnsubscribe or choose what you get: ${url}\n`;
  return { ...parts, html, text };
}

/**
 * Renders one message: the email's templates for this recipient and variables, its sender and
 * headers, then the message hooks (hooks.ts). The same inputs give the same bytes, which a
 * re-sent provider call relies on.
 */
export async function composeMessage(
  ctx: Ctx,
  input: {
    email: EmailRecord;
    recipient: Recipient;
    to: string;
    variables: Record<string, unknown> | null;
    mode: MessageContext['mode'];
    target: LinkTarget;
    /** Liquid for the subject instead of the email's own (an A/B broadcast's variant or winner). */
    subject?: string | null;
  },
): Promise<OutgoingMessage> {
  // Only a real send names its recipient; a test message goes to someone else, so its link names nobody.
  const links = await recipientLinks(ctx, input.mode === 'send' ? input.target : { ...input.target, sendId: null });
  const { contact, company } = input.recipient;
  const scope: Record<string, unknown> = {
    ...input.variables,
    contact,
    company: company ?? {},
    points: contact.points,
    stage: contact.stage,
    unsubscribe_url: links.unsubscribe_url,
    preferences_url: links.preferences_url,
  };
  const parsed = parsedEmail(input.email);
  const rendered = await renderParts(input.subject == null ? parsed : { ...parsed, subject: parsedSubject(input.subject) }, scope);
  const parts = input.target.marketing ? withUnsubscribeFooter(rendered, links.unsubscribe_url) : rendered;
  const headers: Record<string, string> = { ...links.headers };
  if (input.mode === 'test') headers['X-Leadline-Test'] = 'true';
  const message: OutgoingMessage = {
    from: senderOf(ctx, input.email),
    to: input.to,
    replyTo: input.email.replyTo,
    subject: parts.subject,
    html: parts.html,
    text: parts.text,
    headers,
  };
  return applyHooks(message, {
    ctx,
    mode: input.mode,
    emailId: input.email.id,
    sendId: input.target.sendId,
    contactId: input.target.contactId,
    marketing: input.target.marketing,
  });
}

export interface PreviewView {
  from: string;
  to: string | null;
  reply_to: string | null;
  subject: string;
  headers: Record<string, string>;
  html: string;
  text: string;
}

/** POST /emails/{id}/preview: the message as this contact (or a contact with no data) would get it; nothing is stored or sent. */
export async function previewEmail({ ctx, input }: { ctx: Ctx; input: { emailId: number; contactId?: number; variables?: Record<string, unknown> } }): Promise<PreviewView> {
  const email = await loadEmail(ctx, input.emailId);
  let recipient: Recipient = addressOnly(null);
  let contactId: number | null = null;
  if (input.contactId !== undefined) {
    contactId = await resolveContactId(ctx, input.contactId);
    const found = (await loadRecipients(ctx, [contactId])).get(contactId);
    if (!found) throw new ValidationError([{ field: 'contact_id', message: 'no such contact' }]);
    recipient = found;
  }
  const to = recipient.contact.email === null ? null : String(recipient.contact.email);
  const m = await composeMessage(ctx, {
    email,
    recipient,
    to: to ?? '',
    variables: input.variables ?? null,
    mode: 'preview',
    target: { sendId: null, contactId, toEmail: to, categoryId: email.categoryId, marketing: isMarketing(email.kind) },
  });
  return { from: m.from, to, reply_to: m.replyTo, subject: m.subject, headers: m.headers, html: m.html, text: m.text };
}
