import type { Ctx } from '../context';
import { trackHtml } from './track-links';

/** A message as it leaves Leadline: what a driver hands to the provider or the outbox. */
export interface OutgoingMessage {
  from: string;
  to: string;
  replyTo: string | null;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

export interface MessageContext {
  ctx: Ctx;
  /** preview: shown in the API, never sent; test: sent to any address, not counted; send: the real thing. */
  mode: 'preview' | 'test' | 'send';
  emailId: number;
  sendId: number | null;
  contactId: number | null;
  marketing: boolean;
}

export type MessageHook = (message: OutgoingMessage, at: MessageContext) => OutgoingMessage | Promise<OutgoingMessage>;

/**
 * Every change made to a rendered message before it leaves, in order, in one place.
 *
 * Open and click tracking (track-links.ts) is the first: the open pixel (/o/{token}) before
 * </body>, and http(s) links rewritten to signed /c/{token} redirects, with the send id in the
 * token (`at.sendId`; nothing to rewrite in a preview, where it is null). A hook added after it
 * sees tracked links; one that adds links to track must come before it.
 * Hooks run on the HTML after Liquid, so they see final URLs, and must keep the message's
 * bytes the same for the same send (a re-claimed provider call re-sends the same payload
 * under the same Idempotency-Key): derive tokens from the send, never from the time or chance.
 */
export const MESSAGE_HOOKS: MessageHook[] = [
  // Open pixel and click redirects (track-links.ts): sends and tests, never previews.
  async (message, at) => (at.mode === 'preview' || at.sendId === null ? message : { ...message, html: await trackHtml(at.ctx, message.html, at.sendId) }),
];

export async function applyHooks(message: OutgoingMessage, at: MessageContext): Promise<OutgoingMessage> {
  let out = message;
  for (const hook of MESSAGE_HOOKS) out = await hook(out, at);
  return out;
}
