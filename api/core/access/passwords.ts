/**
 * Password hashing with WebCrypto only (crypto.subtle), so one hash verifies on Node and on
 * Workers: PBKDF2-HMAC-SHA256 with OWASP's current recommendation of 600,000 iterations.
 *
 * workerd refuses a single PBKDF2 call above 100,000 iterations, so the work is done in rounds
 * of at most ROUND iterations, each keyed by the password and salted with the previous round's
 * output (the first with the random salt). A guess still costs 600,000 HMAC-SHA256 computations,
 * strictly one after another. The stored string names the algorithm, the total and the round,
 * so the count can rise later: a sign-in with an older count re-hashes (needsRehash).
 *
 *   pbkdf2-sha256$600000$100000$<salt, base64url>$<hash, base64url>
 */
export const PASSWORD_ITERATIONS = 600_000;
const ROUND = 100_000;
const ALGORITHM = 'pbkdf2-sha256';
/** Longest password accepted: bounded work per attempt (HMAC hashes a long key once). */
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_PASSWORD_LENGTH = 10;

const enc = new TextEncoder();

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function fromB64url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number, round: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
  let out = salt;
  for (let left = iterations; left > 0; left -= round) {
    out = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: out, iterations: Math.min(round, left) }, key, 256));
  }
  return out;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PASSWORD_ITERATIONS, ROUND);
  return `${ALGORITHM}$${PASSWORD_ITERATIONS}$${ROUND}$${b64url(salt)}$${b64url(hash)}`;
}

function parse(stored: string) {
  const [alg, it, round, salt, hash, ...rest] = stored.split('$');
  const iterations = Number(it);
  const r = Number(round);
  const s = fromB64url(salt ?? '');
  const h = fromB64url(hash ?? '');
  // Bounds on what a stored value can ask for, so a corrupted row cannot stall a sign-in.
  if (alg !== ALGORITHM || rest.length || !s || !h || !Number.isSafeInteger(iterations) || !Number.isSafeInteger(r)) return null;
  if (iterations < 1 || iterations > 10_000_000 || r < 1 || r > ROUND) return null;
  return { iterations, round: r, salt: s, hash: h };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

// Hashed when the account is unknown (or has no password yet), so that a wrong email costs the
// same time as a wrong password and the answer's timing tells nothing.
let dummy: Promise<string> | undefined;

/** Whether `password` matches `stored`; with `stored` null, does the same work and answers false. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = stored ? parse(stored) : null;
  if (!parsed) {
    dummy ??= hashPassword('not a password of anyone');
    const d = parse(await dummy)!;
    await derive(password, d.salt, d.iterations, d.round);
    return false;
  }
  return equalBytes(await derive(password, parsed.salt, parsed.iterations, parsed.round), parsed.hash);
}

/** A hash made with fewer iterations than today's count is replaced at the next sign-in. */
export function needsRehash(stored: string): boolean {
  const p = parse(stored);
  return !p || p.iterations < PASSWORD_ITERATIONS;
}
