import type { OutgoingMessage } from './hooks';

/**
 * How messages leave: one interface for every provider. A driver gets one call's messages
 * (at most `maxBatch`) and the call's Idempotency-Key, makes the call outside any database
 * transaction, and says what happened. The same key with the same messages must never deliver
 * twice: the send loop re-sends a call under its key when it cannot know whether the first
 * attempt arrived (a crash, a timeout, a 5xx).
 */
export interface DriverMessage extends OutgoingMessage {
  sendId: number;
  contactId: number | null;
}

export type MessageResult = { sendId: number; ok: true; providerId: string | null } | { sendId: number; ok: false; error: string };

export type CallOutcome =
  /** The call went through; each message accepted (with the provider's id) or refused for good. */
  | { kind: 'done'; results: MessageResult[]; waitMs?: number }
  /**
   * Try the same call again later (429, 5xx, timeout, network): nothing is known to have been
   * refused for good. `rateLimited` calls are not counted as failures.
   */
  | {
      kind: 'retry';
      error: string;
      waitMs: number | null;
      rateLimited: boolean;
      /**
       * The provider refused the call before taking anything (a rate limit, a key it refuses):
       * its rows may leave the call and be checked again when next claimed (an unsubscribe in
       * the meantime then stops them). Otherwise they stay one call under the same key.
       */
      nothingTaken?: boolean;
    }
  /** The call was refused as a whole and would be again (a malformed request). */
  | { kind: 'failed'; error: string };

export interface EmailDriver {
  name: 'resend' | 'outbox';
  maxBatch: number;
  send(call: { idempotencyKey: string; messages: DriverMessage[] }): Promise<CallOutcome>;
}
