import { z } from 'zod';

// The one place configuration is read and validated. Entries pass their raw
// environment (process.env on Node, bindings on Workers) and get a typed Config.
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const decodes = (base64: string) => {
  try {
    atob(base64);
    return true;
  } catch {
    return false;
  }
};

export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8787),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .default('file:./data/leadline.db')
    .refine((v) => /^(file:|libsql:|https?:|wss?:|:memory:)/.test(v), {
      message: 'must start with file:, libsql:, http(s): or ws(s):, or be :memory:',
    }),
  DATABASE_AUTH_TOKEN: optionalString,
  ADMIN_API_KEY: optionalString.refine((v) => v === undefined || v.length >= 24, {
    message: 'must be at least 24 characters',
  }),
  PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
    message: 'must be an http(s) URL',
  }),
  SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, {
    message: 'must be at least 16 characters',
  }),
  // The sender of emails that do not name their own: `Name <address>` or an address. With Resend
  // it must be on a domain verified there.
  EMAIL_FROM: optionalString
    .transform((v) => v ?? 'Leadline <leadline@example.com>')
    .refine((v) => /^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/.test(v), {
      message: 'must be an address or "Name <address>"',
    }),
  // With a key, emails go through Resend; without one, into the local outbox.
  RESEND_API_KEY: optionalString,
  // Calls to Resend per second, over every sender of this installation together (Node processes,
  // Worker isolates, jobs Queue consumers): a token bucket in the database (core/email/pacing.ts).
  // Resend's default limit is 2; raise it with the limit Resend gave your team.
  EMAIL_RATE_PER_SECOND: z.coerce.number().min(0.01).max(1000).default(2),
  RESEND_BASE_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: 'must be an http(s) URL' }),
  // Resend's webhook signing secret (whsec_…): POST /webhooks/resend verifies deliveries with it;
  // unset, that endpoint answers 404 (not configured).
  RESEND_WEBHOOK_SECRET: optionalString.refine((v) => v === undefined || (/^(whsec_)?[A-Za-z0-9+/]{16,}={0,2}$/.test(v) && decodes(v.replace(/^whsec_/, ''))), {
    message: 'must be the signing secret Resend shows for the webhook (whsec_ followed by base64)',
  }),
  GEOIP_DB: optionalString,
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  // Requests per minute one IP may send to the public endpoints (/t, forms).
  PUBLIC_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(600),
  // Requests per minute one API key may send to /api/v1 (RateLimit-* headers on every answer).
  API_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1200),
  // Behind a reverse proxy on Node: take the client IP from X-Forwarded-For.
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  // Let webhooks reach loopback receivers (127.0.0.0/8, ::1, localhost): for tests and local
  // development. Private, link-local and metadata destinations stay refused whatever this says.
  OUTBOUND_ALLOW_LOOPBACK: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  // Workers with a jobs Queue (JOBS_QUEUE): how long one queue message works on a job before it
  // hands the rest of the backlog to the next message (api/jobs/queue.ts).
  JOBS_SLICE_MS: z.coerce.number().int().min(1).max(600_000).default(20_000),
});

export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {}

/**
 * Mail that really goes out (RESEND_API_KEY) carries links to this server: tracked links, the
 * open pixel, unsubscribe and preference links, List-Unsubscribe. They are signed into mail that
 * cannot be changed once sent, so they must point where recipients reach the server: PUBLIC_URL,
 * over HTTPS (RFC 8058 one-click unsubscribe needs an HTTPS URI); plain http only for a loopback
 * host while developing. The local outbox needs none of this.
 */
function sendingMailNeedsPublicUrl(c: { RESEND_API_KEY?: string; PUBLIC_URL?: string }): string | null {
  if (!c.RESEND_API_KEY) return null;
  if (!c.PUBLIC_URL) return 'required when RESEND_API_KEY is set: links in sent mail (clicks, unsubscribe) must reach this server, e.g. https://leadline.example.com';
  let u: URL;
  try {
    u = new URL(c.PUBLIC_URL);
  } catch {
    return 'must be a URL';
  }
  const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\./.test(u.hostname);
  if (u.protocol !== 'https:' && !loopback) return 'must be https when RESEND_API_KEY is set (one-click unsubscribe links must be HTTPS)';
  return null;
}

export function parseConfig(raw: Record<string, unknown>): Config {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    if (raw[key] !== undefined) picked[key] = raw[key];
  }
  const result = ConfigSchema.safeParse(picked);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const mailUrl = sendingMailNeedsPublicUrl(result.data);
  if (mailUrl) throw new ConfigError(`Invalid configuration:\n  PUBLIC_URL: ${mailUrl}`);
  return result.data;
}
