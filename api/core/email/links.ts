import type { Ctx } from '../context';
import { signToken, verifyToken } from './tokens';

/**
 * The recipient's unsubscribe and preference-centre links: `{{ unsubscribe_url }}` and
 * `{{ preferences_url }}` in templates, and List-Unsubscribe / List-Unsubscribe-Post (RFC 8058)
 * on marketing messages. Everything that renders a message (preview, test, the send loop) comes
 * through here.
 *
 * The link carries a signed 'unsubscribe' token (tokens.ts) naming the recipient (the contact
 * id, or the address for a send without a contact), the email's category (null: none) and the
 * send: `[recipient, category, send]`, compact JSON, so the same send gives the same bytes.
 * A preview or a test message (no send row a person received) carries a harmless link that
 * names nobody: /u/preview, which the preference centre answers as not valid.
 *
 * List-Unsubscribe also names a mailto: Leadline reads no mail, so it is the sender's own
 * address (EMAIL_FROM) with the token in the subject ("unsubscribe <token>"); whoever reads
 * that mailbox acts on it at /u/<token>. Mailbox providers use the HTTPS one-click URL
 * (List-Unsubscribe-Post), which takes effect at once.
 */
export interface LinkTarget {
  /** The send row; null for a preview (and a test message, which names no recipient). */
  sendId: number | null;
  contactId: number | null;
  toEmail: string | null;
  categoryId: number | null;
  marketing: boolean;
}

export interface RecipientLinks {
  unsubscribe_url: string;
  preferences_url: string;
  /** Headers the message carries for them. */
  headers: Record<string, string>;
}

/** What a genuine unsubscribe token names. */
export interface UnsubscribeTarget {
  /** A contact id, or an address (a send without a contact). */
  recipient: number | string;
  categoryId: number | null;
  sendId: number | null;
}

/** The token of links in previews and test messages: not a token, so it changes nothing. */
export const PREVIEW_TOKEN = 'preview';

/** Where this server is reached from outside: PUBLIC_URL, else its own address. */
export function publicBase(config: Ctx['config']): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

async function linkToken(ctx: Ctx, target: LinkTarget): Promise<string> {
  if (target.sendId === null) return PREVIEW_TOKEN;
  const recipient = target.contactId ?? target.toEmail;
  if (recipient === null) return PREVIEW_TOKEN;
  return signToken(ctx, 'unsubscribe', [recipient, target.categoryId, target.sendId]);
}

const posInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** The target of a genuine unsubscribe token, or null (tampered, another kind, malformed). */
export async function readUnsubscribeToken(ctx: Ctx, token: string): Promise<UnsubscribeTarget | null> {
  const p = await verifyToken(ctx, 'unsubscribe', token);
  if (!p || p.length !== 3) return null;
  const [recipient, category, send] = p;
  if (!(posInt(recipient) || (typeof recipient === 'string' && recipient.length > 0 && recipient.length <= 254))) return null;
  if (!(category === null || posInt(category)) || !(send === null || posInt(send))) return null;
  return { recipient, categoryId: category, sendId: send };
}

/** The address of a sender ("Name <address>" or an address). */
const addressOf = (from: string) => /<([^<>]+)>\s*$/.exec(from)?.[1]?.trim() ?? from.trim();

export async function recipientLinks(ctx: Ctx, target: LinkTarget): Promise<RecipientLinks> {
  const token = await linkToken(ctx, target);
  const url = `${publicBase(ctx.config)}/u/${token}`;
  const links = { unsubscribe_url: url, preferences_url: `${url}?preferences=1` };
  if (!target.marketing) return { ...links, headers: {} };
  const mailto = `mailto:${addressOf(ctx.config.EMAIL_FROM)}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`;
  return {
    ...links,
    headers: { 'List-Unsubscribe': `<${links.unsubscribe_url}>, <${mailto}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}
