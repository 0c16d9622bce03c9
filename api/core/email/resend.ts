import { Resend } from 'resend';
import type { Config } from '../../env';
import type { CallOutcome, EmailDriver } from './driver';

/**
 * Resend, through its SDK: the batch endpoint (≤ 100 messages a call), with the call's
 * Idempotency-Key (Resend keeps keys 24 hours and answers a repeated call with the first
 * answer, sending nothing again) and permissive validation (one bad message does not sink the
 * other 99). The SDK gives back the response headers, which pace the loop: after a call that
 * used up the window (ratelimit-remaining 0) the next waits ratelimit-reset seconds; a 429
 * waits retry-after. The SDK calls the fixed, operator-configured API host with the global
 * fetch, so the outbound helper's SSRF policy (made for user-given URLs) is not in its way.
 */
const TIMEOUT_MS = 30_000;
/** How long a call refused for its key (401/403) waits before it is tried again. */
export const AUTH_RETRY_MS = 5 * 60_000;

const seconds = (v: string | undefined): number | null => {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.ceil(n * 1000) : null;
};

/** How long to wait before the next call, from Resend's rate-limit headers. */
export function pacingFrom(headers: Record<string, string> | null, status: number | null): number | null {
  if (!headers) return null;
  const h = (name: string) => headers[name] ?? headers[name.toLowerCase()];
  const retryAfter = seconds(h('retry-after'));
  // On a refusal (429, 5xx) the provider's Retry-After wins.
  if (retryAfter !== null && (status === null || status >= 400)) return retryAfter;
  if (h('ratelimit-remaining') === '0') return seconds(h('ratelimit-reset')) ?? retryAfter ?? 1000;
  return status === 429 ? 1000 : null;
}

// Resend's tag values: ASCII letters, digits, _ and -.
const tag = (name: string, value: string | number) => ({ name, value: String(value) });

export function resendDriver(config: Pick<Config, 'RESEND_API_KEY' | 'RESEND_BASE_URL'>): EmailDriver {
  const client = new Resend(config.RESEND_API_KEY, config.RESEND_BASE_URL ? { baseUrl: config.RESEND_BASE_URL.replace(/\/+$/, '') } : undefined);
  return {
    name: 'resend',
    maxBatch: 100,
    async send({ idempotencyKey, messages }): Promise<CallOutcome> {
      const res = await client.batch.send(
        messages.map((m) => ({
          from: m.from,
          to: [m.to],
          subject: m.subject,
          html: m.html,
          text: m.text,
          ...(m.replyTo ? { replyTo: m.replyTo } : {}),
          ...(Object.keys(m.headers).length ? { headers: m.headers } : {}),
          // Provider webhooks can find the send even where the provider's id was never learnt.
          tags: [tag('leadline_send', m.sendId)],
        })),
        { idempotencyKey, batchValidation: 'permissive', signal: AbortSignal.timeout(TIMEOUT_MS) },
      );
      if (res.error) {
        const status = typeof res.error.statusCode === 'number' ? res.error.statusCode : null;
        const error = `Resend ${status ?? 'unreachable'}: ${res.error.name}: ${String(res.error.message).slice(0, 300)}`;
        const wait = pacingFrom(res.headers, status);
        // The same key with a different payload: the first call with this key was accepted
        // (Resend keeps keys of sent requests), and a re-claimed call rendered differently
        // (the contact changed meanwhile). Its messages went out; their ids are not known.
        if (res.error.name === 'invalid_idempotent_request') {
          return { kind: 'done', results: messages.map((m) => ({ sendId: m.sendId, ok: true as const, providerId: null })) };
        }
        // Another request with this key is still being processed: keep the key.
        if (res.error.name === 'concurrent_idempotent_requests') return { kind: 'retry', error, waitMs: wait, rateLimited: true };
        if (status === 429 || res.error.name === 'rate_limit_exceeded') return { kind: 'retry', error, waitMs: wait, rateLimited: true, nothingTaken: true };
        // A key the operator must fix (missing, revoked, restricted, or the sending domain not
        // allowed): no send's fault. Nothing was sent, so the call waits without counting
        // failures, and goes out once the configuration is right, however long that takes.
        if (status === 401 || status === 403) {
          return { kind: 'retry', error, waitMs: Math.max(wait ?? 0, AUTH_RETRY_MS), rateLimited: true, nothingTaken: true };
        }
        // A malformed call is refused again however often it is made.
        if (status === 400 || status === 422) return { kind: 'failed', error };
        // 5xx, timeouts, network errors, quotas.
        return { kind: 'retry', error, waitMs: wait, rateLimited: false };
      }
      const body = res.data as unknown as { data?: { id: string }[]; errors?: { index: number; message: string }[] };
      const refused = new Map((body.errors ?? []).map((e) => [e.index, e.message]));
      const ids = body.data ?? [];
      // Permissive answers list the accepted messages' ids in order and the refused ones by index.
      const idAt = new Map<number, string | null>();
      if (ids.length === messages.length) ids.forEach((x, i) => idAt.set(i, x?.id ?? null));
      else messages.map((_, i) => i).filter((i) => !refused.has(i)).forEach((i, n) => idAt.set(i, ids[n]?.id ?? null));
      return {
        kind: 'done',
        waitMs: pacingFrom(res.headers, 200) ?? undefined,
        results: messages.map((m, i) =>
          refused.has(i)
            ? { sendId: m.sendId, ok: false as const, error: `Resend refused it: ${String(refused.get(i)).slice(0, 300)}` }
            : { sendId: m.sendId, ok: true as const, providerId: idAt.get(i) ?? null },
        ),
      };
    },
  };
}
