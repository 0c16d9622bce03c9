import type { Ctx } from '../context';

/**
 * The recipient's unsubscribe and preference-centre links: `{{ unsubscribe_url }}` and
 * `{{ preferences_url }}` in templates, and List-Unsubscribe / List-Unsubscribe-Post (RFC 8058)
 * on marketing messages.
 *
 * EXTENSION POINT (issue 10, point 4): the URLs below are placeholders with no token behind
 * them yet (GET /u/… answers 404). The unsubscribe work replaces `linkToken` with a signed
 * token naming the recipient and category, serves GET/POST /u/{token}, and may add a mailto
 * to List-Unsubscribe. Everything that renders a message (preview, test, the send loop) comes
 * through here, so nothing else needs to change.
 */
export interface LinkTarget {
  /** The send row; null for a preview. */
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

/** Where this server is reached from outside: PUBLIC_URL, else its own address. */
export function publicBase(config: Ctx['config']): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/+$/, '');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

async function linkToken(_ctx: Ctx, target: LinkTarget): Promise<string> {
  return target.sendId === null ? 'preview' : `pending-${target.sendId}`;
}

export async function recipientLinks(ctx: Ctx, target: LinkTarget): Promise<RecipientLinks> {
  const url = `${publicBase(ctx.config)}/u/${await linkToken(ctx, target)}`;
  const links = { unsubscribe_url: url, preferences_url: `${url}?preferences=1` };
  const headers: Record<string, string> = target.marketing
    ? { 'List-Unsubscribe': `<${links.unsubscribe_url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
    : {};
  return { ...links, headers };
}
