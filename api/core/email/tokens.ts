import sha256, { type HMAC as Hmac } from 'fast-sha256';
import type { Ctx } from '../context';
import { randomToken } from '../util/crypto';

/**
 * The one home for the signed tokens email links carry: the open pixel (/o/{token}), click
 * redirects (/c/{token}: the destination is inside the signed payload, so there is no open
 * redirect), unsubscribe and preference links (/u/{token}) and the short-lived identify token a
 * click-through hands to the landing page.
 *
 * A token is `base64url(JSON payload) . base64url(HMAC-SHA-256(kind + payload))` cut to 16
 * bytes of MAC (128 bits: forging one is out of reach, and links stay short). The kind is inside
 * the MAC, so an open token is never accepted as an unsubscribe token. The payload is a JSON
 * array, as compact as the caller makes it; tokens for the same inputs are the same bytes, which
 * a re-sent provider call relies on (hooks.ts). Verification is constant-time and answers null
 * for anything malformed, tampered or of another kind: callers turn that into their 400.
 *
 * The key is SECRET when configured, else a random secret made once per installation and kept
 * in app_state (so links in sent mail keep working across restarts, and on every Worker).
 *
 * The MAC is computed in JavaScript (fast-sha256's HMAC, the same on Node and Workers), keyed
 * once: a send signs one unsubscribe token per message and tracking one token per link, and
 * WebCrypto's sign() costs a round trip through Node's thread pool per call (about 0.2 ms, more
 * than a whole Liquid render of a short email). The key's inner and outer states are kept, so a
 * token costs two or three SHA-256 blocks. Tests check it against crypto.subtle.
 */
export type TokenKind = 'open' | 'click' | 'unsubscribe' | 'identify';

const KIND_TAG: Record<TokenKind, string> = { open: 'o', click: 'c', unsubscribe: 'u', identify: 'i' };

/** Longest token accepted before any decoding (a click token carries its URL, ≤ 2,048 characters). */
export const MAX_TOKEN_LENGTH = 4096;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const keys = new WeakMap<object, Map<string, Promise<Hmac>>>();
// fast-sha256 is a UMD module whose exports hang off its default export (Node's ESM loader sees no named ones).
const { HMAC } = sha256 as unknown as { HMAC: typeof Hmac };

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding, by table (a send encodes a dozen tokens a message: no btoa and regex passes). */
function b64url(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]! + B64URL[n & 63]!;
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]!;
    if (i + 1 < bytes.length) s += B64URL[(n >>> 6) & 63]!;
  }
  return s;
}

function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

async function secretOf(ctx: Ctx): Promise<string> {
  if (ctx.config.SECRET) return ctx.config.SECRET;
  const r = await ctx.client.execute({
    sql: "INSERT INTO app_state (key, value) VALUES ('email_link_secret', ?) ON CONFLICT(key) DO UPDATE SET value = value RETURNING value",
    args: [randomToken(43)],
  });
  return String(r.rows[0]!.value);
}

/** One keyed HMAC per database client and configured SECRET (neither changes while it runs). */
function keyOf(ctx: Ctx): Promise<Hmac> {
  let byClient = keys.get(ctx.client);
  if (!byClient) keys.set(ctx.client, (byClient = new Map()));
  const slot = ctx.config.SECRET ?? '';
  let k = byClient.get(slot);
  if (!k) {
    k = secretOf(ctx).then((secret) => new HMAC(enc.encode(secret)));
    k.catch(() => byClient.delete(slot));
    byClient.set(slot, k);
  }
  return k;
}

/** HMAC-SHA-256 of `kind.body` under the key, cut to 16 bytes. Synchronous: no await between reset and digest. */
function macWith(key: Hmac, kind: TokenKind, body: string): Uint8Array {
  return key.reset().update(enc.encode(`${KIND_TAG[kind]}.${body}`)).digest().subarray(0, 16);
}

async function mac(ctx: Ctx, kind: TokenKind, body: string): Promise<Uint8Array> {
  return macWith(await keyOf(ctx), kind, body);
}

export type TokenSigner = (kind: TokenKind, payload: readonly unknown[]) => string;

/** A synchronous signer under this context's key, for code that signs many tokens at once (a message's links). */
export async function tokenSigner(ctx: Ctx): Promise<TokenSigner> {
  const key = await keyOf(ctx);
  return (kind, payload) => {
    const body = b64url(enc.encode(JSON.stringify(payload)));
    return `${body}.${b64url(macWith(key, kind, body))}`;
  };
}

export async function signToken(ctx: Ctx, kind: TokenKind, payload: readonly unknown[]): Promise<string> {
  return (await tokenSigner(ctx))(kind, payload);
}

/** The payload of a genuine token of this kind, or null. */
export async function verifyToken(ctx: Ctx, kind: TokenKind, token: string): Promise<unknown[] | null> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return null;
  const body = token.slice(0, dot);
  const given = fromB64url(token.slice(dot + 1));
  // Only the canonical spelling: the last character of 16 bytes in base64url carries 2 bits and 4
  // of padding, which atob ignores, so without this one MAC had 16 spellings.
  if (!given || given.length !== 16 || b64url(given) !== token.slice(dot + 1)) return null;
  const want = await mac(ctx, kind, body);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= want[i]! ^ given[i]!;
  if (diff !== 0) return null;
  const raw = fromB64url(body);
  if (!raw) return null;
  try {
    const payload: unknown = JSON.parse(dec.decode(raw));
    return Array.isArray(payload) ? payload : null;
  } catch {
    return null;
  }
}
