import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ROLES } from '../../core/access/permissions';
import { deleteUser, getUser, inviteUser, listUsers, resendInvitation, updateUser } from '../../core/access/users';
import { defer } from '../defer';
import { publicBase } from '../../core/email/links';
import { DeletedSchema, Email, errors, IdParam, json, jsonBody, page, PageQuery, security, Timestamp, type AppEnv } from '../shared';

// The people who sign in to the dashboard (admins only: an admin session or an admin API key).
// Creating a user invites them: an email with a single-use link (7 days) to /app/setup?token=….

const tags = ['Users'];

const Role = z.enum(ROLES).openapi({
  description:
    'viewer: reads; sales: also contacts, companies, deals and sales feedback; marketer: everything but users, API keys, jobs and CRM integrations; admin: everything',
});

const User = z
  .object({
    id: z.number().int(),
    email: Email,
    name: z.string(),
    role: Role,
    created_at: Timestamp,
    last_login_at: Timestamp.nullable(),
    invited: z.boolean().openapi({ description: 'Invited and not yet accepted (cannot sign in yet)' }),
  })
  .openapi('User');

const Invite = z
  .strictObject({
    email: z.string().trim().min(1).max(254).openapi({ format: 'email' }),
    name: z.string().trim().max(200).optional().openapi({ description: 'The invitee chooses theirs when accepting' }),
    role: Role,
  })
  .openapi('InviteUser');

const UserPatch = z.strictObject({ name: z.string().trim().min(1).max(200).optional(), role: Role.optional() }).openapi('UserPatch');

const inviter = (c: Context<AppEnv>) => {
  const u = c.get('session')?.user;
  return u ? u.name || u.email : 'An administrator';
};

export const userRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/users',
      operationId: 'listUsers',
      tags,
      security,
      summary: 'List users',
      request: { query: PageQuery },
      responses: { 200: json(page(User, 'UserPage'), 'Users, oldest first'), ...errors() },
    }),
    async (c) => c.json(await listUsers({ ctx: c.get('ctx'), input: c.req.valid('query') }), 200),
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/users',
      operationId: 'inviteUser',
      tags,
      security,
      summary: 'Invite a user',
      description: 'Creates the user (invited: true) and emails them a single-use link, valid 7 days, to choose their name and password.',
      request: { body: jsonBody(Invite) },
      responses: { 201: json(User, 'Invited'), ...errors(409, 415) },
    }),
    async (c) => {
      const { user, sending } = await inviteUser({ ctx: c.get('ctx'), input: { ...c.req.valid('json'), inviter: inviter(c), base: publicBase(c.get('ctx').config) } });
      defer(c, sending);
      return c.json(user, 201);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/users/{id}',
      operationId: 'getUser',
      tags,
      security,
      summary: 'Get a user',
      request: { params: IdParam },
      responses: { 200: json(User, 'The user'), ...errors(404) },
    }),
    async (c) => c.json(await getUser({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/users/{id}',
      operationId: 'updateUser',
      tags,
      security,
      summary: "Change a user's name or role",
      description: 'A new role applies to the next request the user makes. The last admin who can sign in keeps the admin role (409).',
      request: { params: IdParam, body: jsonBody(UserPatch) },
      responses: { 200: json(User, 'The user'), ...errors(404, 409, 415) },
    }),
    async (c) => c.json(await updateUser({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), ...c.req.valid('json') } }), 200),
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/api/v1/users/{id}',
      operationId: 'deleteUser',
      tags,
      security,
      summary: 'Remove a user',
      description: 'Their sessions end at once and their links stop working. The last admin who can sign in cannot be removed (409).',
      request: { params: IdParam },
      responses: { 200: json(DeletedSchema, 'Removed'), ...errors(404, 409) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await deleteUser({ ctx: c.get('ctx'), input: { id } });
      return c.json({ id, deleted: true as const }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/users/{id}/invitation',
      operationId: 'resendInvitation',
      tags,
      security,
      summary: 'Send the invitation again',
      description: 'A new link (the previous one stops working), for a user who has not accepted yet (409 otherwise).',
      request: { params: IdParam },
      responses: { 202: json(User, 'Sent again'), ...errors(404, 409) },
    }),
    async (c) => {
      const { user, sending } = await resendInvitation({ ctx: c.get('ctx'), input: { ...c.req.valid('param'), inviter: inviter(c), base: publicBase(c.get('ctx').config) } });
      defer(c, sending);
      return c.json(user, 202);
    },
  );
