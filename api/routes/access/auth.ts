import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../../core/access/passwords';
import { ROLES } from '../../core/access/permissions';
import { createSession, revokeSession, csrfTokenOf, SESSION_COOKIE, type SessionUser } from '../../core/access/sessions';
import { acceptInvitation, confirmPasswordReset, isSetupToken, requestPasswordReset, setupFirstAdmin, signIn } from '../../core/access/users';
import { UnauthorizedError, ValidationError } from '../../core/errors';
import { getCookie } from 'hono/cookie';
import { defer } from '../defer';
import { publicBase } from '../../core/email/links';
import { Email, ErrorSchema, errors, json, jsonBody, publicErrors, type AppEnv } from '../shared';

// Signing in to the dashboard (core/access/users.ts, sessions.ts): the endpoints anyone may call
// (sign in, password reset, invitations, the first admin's setup) and the session's own (me,
// sign out). The cookie is HttpOnly, SameSite=Lax, Path=/, and Secure when this server is
// reached over https (the request, or PUBLIC_URL).

const tags = ['Auth'];
const open: never[] = [];
const sessionOnly = [{ sessionCookie: [] }];

export const Password = z
  .string()
  .min(MIN_PASSWORD_LENGTH)
  .max(MAX_PASSWORD_LENGTH)
  .openapi({ description: `${MIN_PASSWORD_LENGTH}–${MAX_PASSWORD_LENGTH} characters` });
const Token = z.string().min(1).max(200).openapi({ description: 'The `token` of the link' });
const Name = z.string().trim().min(1).max(200);

const SessionUserSchema = z
  .object({ id: z.number().int(), email: Email, name: z.string(), role: z.enum(ROLES) })
  .openapi('SessionUser');
const SessionSchema = z
  .object({
    user: SessionUserSchema,
    csrf_token: z.string().openapi({ description: 'Send it as `X-CSRF-Token` on every write made with the session cookie' }),
  })
  .openapi('Session');

const setCookieHeader = {
  'Set-Cookie': {
    description: `\`${SESSION_COOKIE}=…; Path=/; HttpOnly; SameSite=Lax\` (and \`Secure\` over https): the session`,
    schema: { type: 'string' as const },
  },
};
const signedIn = (description: string) => ({ description, headers: setCookieHeader, content: { 'application/json': { schema: SessionSchema } } });
const crossSite = json(ErrorSchema, 'CSRF_FAILED: sent from a page of another origin');
const badLink = json(ErrorSchema, 'BAD_REQUEST: the link is not valid (used, replaced by a newer one, or expired)');

const secureCookie = (c: Context<AppEnv>) => new URL(c.req.url).protocol === 'https:' || !!c.get('ctx').config.PUBLIC_URL?.startsWith('https:');

/** Starts a session for the user: the cookie, and the answer with the CSRF token. */
async function startSession(c: Context<AppEnv>, user: SessionUser) {
  const { token, csrf, maxAgeMs } = await createSession(c.get('ctx'), user.id);
  setCookie(c, SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Lax', secure: secureCookie(c), maxAge: Math.floor(maxAgeMs / 1000) });
  c.header('Cache-Control', 'no-store');
  return c.json({ user, csrf_token: csrf }, 200);
}

function sessionOf(c: Context<AppEnv>) {
  const s = c.get('session');
  if (!s) throw new UnauthorizedError('This needs a signed-in session (the dashboard cookie); an API key has no user.');
  return s;
}

export const authRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/login',
      operationId: 'signIn',
      tags,
      security: open,
      summary: 'Sign in with email and password',
      description:
        'Starts a session: the `ll_session` cookie and, in the answer, the CSRF token for writes. A wrong password and an unknown email get the same answer. After 5 failures for an account (20 for a client address) each further attempt waits longer (30 s, doubling, up to an hour): 429 with Retry-After.',
      request: { body: jsonBody(z.strictObject({ email: z.string().trim().min(1).max(254), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) }).openapi('SignIn')) },
      responses: {
        200: signedIn('Signed in'),
        401: json(ErrorSchema, 'INVALID_CREDENTIALS: the email or password is not correct'),
        403: crossSite,
        ...publicErrors(400, 415, 422),
      },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json');
      const user = await signIn({ ctx: c.get('ctx'), input: { email, password, ip: c.get('clientIp') } });
      return startSession(c, user);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/logout',
      operationId: 'signOut',
      tags,
      security: sessionOnly,
      summary: 'Sign out',
      description: 'Revokes the session at once (the cookie no longer works anywhere) and clears the cookie.',
      responses: { 204: { description: 'Signed out', headers: setCookieHeader }, ...errors() },
    }),
    async (c) => {
      const s = sessionOf(c);
      await revokeSession(c.get('ctx'), s.id);
      deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Lax', secure: secureCookie(c) });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/auth/me',
      operationId: 'getSession',
      tags,
      security: sessionOnly,
      summary: 'Who is signed in',
      description: "The session's user and its CSRF token; 401 without a live session.",
      responses: { 200: json(SessionSchema, 'The session'), ...errors() },
    }),
    async (c) => {
      const s = sessionOf(c);
      c.header('Cache-Control', 'no-store');
      return c.json({ user: s.user, csrf_token: await csrfTokenOf(getCookie(c, SESSION_COOKIE)!) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/password-reset',
      operationId: 'requestPasswordReset',
      tags,
      security: open,
      summary: 'Ask for a password reset link',
      description:
        'Emails a single-use link (valid 1 hour) to /app/reset-password?token=… if the address is a user’s. The answer is 202 whether or not it is, so it tells nobody who has an account.',
      request: { body: jsonBody(z.strictObject({ email: z.string().trim().min(1).max(254) }).openapi('PasswordResetRequest')) },
      responses: { 202: { description: 'Accepted (whether or not the address has an account)' }, 403: crossSite, ...publicErrors(400, 415, 422) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const sent = await requestPasswordReset({ ctx, input: { email: c.req.valid('json').email, ip: c.get('clientIp'), base: publicBase(c.get('ctx').config) } });
      if (sent) defer(c, sent.sending);
      return c.body(null, 202);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/password-reset/confirm',
      operationId: 'confirmPasswordReset',
      tags,
      security: open,
      summary: 'Set a new password with a reset link',
      description: 'The link works once; every session of the user ends.',
      request: { body: jsonBody(z.strictObject({ token: Token, password: Password }).openapi('PasswordResetConfirm')) },
      responses: { 204: { description: 'Password changed' }, 400: badLink, 403: crossSite, ...publicErrors(415, 422) },
    }),
    async (c) => {
      await confirmPasswordReset({ ctx: c.get('ctx'), input: c.req.valid('json') });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/invitations/accept',
      operationId: 'acceptInvitation',
      tags,
      security: open,
      summary: 'Accept an invitation',
      description:
        "Sets the invited user's name and password and signs them in; the link works once. The first admin's setup link (printed at first start) is taken here too, with `email`; see also POST /api/v1/auth/setup.",
      request: {
        body: jsonBody(
          z
            .strictObject({
              token: Token,
              name: Name,
              password: Password,
              email: z.string().trim().min(1).max(254).optional().openapi({ description: "Only with the first admin's setup link: the admin's address" }),
            })
            .openapi('AcceptInvitation'),
        ),
      },
      responses: { 200: signedIn('Accepted and signed in'), 400: badLink, 403: crossSite, ...publicErrors(415, 422) },
    }),
    async (c) => {
      const ctx = c.get('ctx');
      const input = c.req.valid('json');
      if (await isSetupToken(ctx, input.token)) {
        if (!input.email) throw new ValidationError([{ field: 'email', message: "the first admin's setup link needs the admin's email address" }]);
        return startSession(c, await setupFirstAdmin({ ctx, input: { token: input.token, email: input.email, name: input.name, password: input.password } }));
      }
      return startSession(c, await acceptInvitation({ ctx, input }));
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/auth/setup',
      operationId: 'setUpFirstAdmin',
      tags,
      security: open,
      summary: 'Create the first admin',
      description:
        'With the one-time link the server prints at first start (/app/setup?token=…), while no user exists: creates the admin and signs them in. The link works once.',
      request: { body: jsonBody(z.strictObject({ token: Token, email: z.string().trim().min(1).max(254), name: Name, password: Password }).openapi('FirstAdminSetup')) },
      responses: { 200: signedIn('The first admin, signed in'), 400: badLink, 403: crossSite, ...publicErrors(415, 422) },
    }),
    async (c) => startSession(c, await setupFirstAdmin({ ctx: c.get('ctx'), input: c.req.valid('json') })),
  );
