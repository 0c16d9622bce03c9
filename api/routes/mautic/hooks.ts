import { Hono } from 'hono';
import type { AppEnv } from '../shared';
import { windowOf } from '../../core/mautic/paging';
import { deleteMauticHook, editMauticHook, getMauticHook, listMauticHooks, mauticTriggers, newMauticHook } from '../../core/mautic/hooks';
import { bodyOf, idParam, reply } from './shared';

/** Mautic's webhooks (/api/hooks), backed by Leadline's webhook subscriptions (core/mautic/hooks.ts). */
export const mauticHookRoutes = new Hono<AppEnv>()
  .get('/api/hooks/triggers', (c) => reply(c, mauticTriggers()))
  .get('/api/hooks', async (c) => {
    const q = c.req.query();
    return reply(c, await listMauticHooks({ ctx: c.get('ctx'), input: { ...windowOf(q), published: q.published, search: q.search } }));
  })
  .post('/api/hooks/new', async (c) => reply(c, await newMauticHook({ ctx: c.get('ctx'), input: bodyOf(c) }), 201))
  .get('/api/hooks/:id', async (c) => reply(c, await getMauticHook({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .on(['PATCH', 'PUT'], '/api/hooks/:id/edit', async (c) => {
    const { hook, created } = await editMauticHook({ ctx: c.get('ctx'), input: { id: idParam(c), body: bodyOf(c), replace: c.req.method === 'PUT' } });
    return reply(c, { hook }, created ? 201 : 200);
  })
  .delete('/api/hooks/:id/delete', async (c) => reply(c, await deleteMauticHook({ ctx: c.get('ctx'), input: { id: idParam(c) } })));
