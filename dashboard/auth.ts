// The session, per the dashboard ⇄ server auth contract: an HttpOnly cookie the browser keeps,
// GET /api/v1/auth/me to learn who is signed in (401: nobody), and the CSRF token it answers,
// sent with every write. The auth operations are called with plain fetch until they are in the
// OpenAPI document this dashboard was generated from; their shapes are the contract's.
import { errorMessage, onUnauthorized, setCsrfToken, writeHeaders } from './api/client';

export interface User {
  id: number | string;
  email: string;
  name: string | null;
  role: 'admin' | 'marketer' | 'sales' | 'viewer' | string;
}

interface SessionAnswer {
  user: User;
  csrf_token: string;
}

export type Session = { state: 'loading' } | { state: 'signed-out'; problem?: string } | { state: 'signed-in'; user: User };

let session: Session = { state: 'loading' };
const listeners = new Set<(s: Session) => void>();

export const currentSession = () => session;
export function onSession(f: (s: Session) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}
function set(s: Session) {
  session = s;
  for (const f of listeners) f(s);
}

function signedIn(answer: SessionAnswer) {
  setCsrfToken(answer.csrf_token);
  set({ state: 'signed-in', user: answer.user });
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...writeHeaders() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function failure(res: Response): Promise<Error> {
  const body = await res.json().catch(() => undefined);
  return new Error(errorMessage(body, res));
}

/** Asks the server who this browser is; a 401 means the sign-in page. */
export async function checkSession(): Promise<void> {
  try {
    const res = await fetch('/api/v1/auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.ok) return signedIn((await res.json()) as SessionAnswer);
    setCsrfToken(null);
    set(res.status === 401 ? { state: 'signed-out' } : { state: 'signed-out', problem: (await failure(res)).message });
  } catch (e) {
    set({ state: 'signed-out', problem: errorMessage(e) });
  }
}

/** Signs in; throws with the server's message (wrong credentials, too many attempts). */
export async function signIn(email: string, password: string): Promise<void> {
  const res = await post('/api/v1/auth/login', { email, password }).catch((e) => {
    throw new Error(errorMessage(e));
  });
  if (!res.ok) {
    const err = await failure(res);
    const wait = res.headers.get('Retry-After');
    throw res.status === 429 && wait && !/retry/i.test(err.message) ? new Error(`${err.message} Try again in ${wait} s.`) : err;
  }
  signedIn((await res.json()) as SessionAnswer);
}

/** The first admin's one-time link: creates that admin and signs in. */
export async function setUpFirstAdmin(token: string, email: string, name: string, password: string): Promise<void> {
  const res = await post('/api/v1/auth/setup', { token, email, name, password }).catch((e) => {
    throw new Error(errorMessage(e));
  });
  if (!res.ok) throw await failure(res);
  signedIn((await res.json()) as SessionAnswer);
}

/** Accepts an invitation and signs in. */
export async function acceptInvitation(token: string, name: string, password: string): Promise<void> {
  const res = await post('/api/v1/auth/invitations/accept', { token, name, password }).catch((e) => {
    throw new Error(errorMessage(e));
  });
  if (!res.ok) throw await failure(res);
  signedIn((await res.json()) as SessionAnswer);
}

/** Asks for a reset link; the server answers the same whether or not the address has an account. */
export async function requestPasswordReset(email: string): Promise<void> {
  const res = await post('/api/v1/auth/password-reset', { email }).catch((e) => {
    throw new Error(errorMessage(e));
  });
  if (!res.ok) throw await failure(res);
}

/** Sets a new password with the emailed link's token (every session of that user ends). */
export async function resetPassword(token: string, password: string): Promise<void> {
  const res = await post('/api/v1/auth/password-reset/confirm', { token, password }).catch((e) => {
    throw new Error(errorMessage(e));
  });
  if (!res.ok) throw await failure(res);
}

export async function signOut(): Promise<void> {
  const res = await post('/api/v1/auth/logout', undefined).catch((e) => {
    throw new Error(errorMessage(e));
  });
  if (!res.ok && res.status !== 401) throw await failure(res);
  setCsrfToken(null);
  set({ state: 'signed-out' });
}

// A call answered 401 mid-session (expired, revoked): back to the sign-in page, saying why.
onUnauthorized(() => {
  if (session.state !== 'signed-in') return;
  setCsrfToken(null);
  set({ state: 'signed-out', problem: 'Your session has ended. Please sign in again.' });
});
