import { Hono } from 'hono';
import type { AppEnv } from '../shared';
import { windowOf } from '../../core/mautic/paging';
import {
  batchNewMauticContacts,
  deleteMauticContact,
  editMauticContact,
  listMauticContacts,
  mauticContactById,
  newMauticContact,
} from '../../core/mautic/contacts';
import {
  addMauticDnc,
  changeMauticPoints,
  mauticContactActivity,
  mauticContactCampaigns,
  mauticContactCompanies,
  mauticContactSegments,
  removeMauticDnc,
} from '../../core/mautic/contact-actions';
import { NotFoundError } from '../../core/errors';
import { bodyOf, idParam, reply, whereOf } from './shared';

/** Mautic's /api/contacts… (LeadApiController), thin: parse, call core/mautic, answer. */
export const mauticContactRoutes = new Hono<AppEnv>()
  .get('/api/contacts', async (c) => {
    const q = c.req.query();
    const input = { ...windowOf(q), search: q.search, orderBy: q.orderBy, orderByDir: q.orderByDir, where: whereOf(c) };
    return reply(c, await listMauticContacts({ ctx: c.get('ctx'), input }));
  })
  .post('/api/contacts/new', async (c) => {
    const { contact, created } = await newMauticContact({ ctx: c.get('ctx'), input: bodyOf(c) });
    if (created) c.header('Location', new URL(`/api/contacts/${contact.id}`, c.req.url).toString());
    return reply(c, { contact }, created ? 201 : 200);
  })
  .post('/api/contacts/batch/new', async (c) => reply(c, await batchNewMauticContacts({ ctx: c.get('ctx'), input: bodyOf(c, { list: true }) }), 201))
  .get('/api/contacts/:id', async (c) => reply(c, { contact: await mauticContactById(c.get('ctx'), idParam(c)) }))
  .on(['PATCH', 'PUT'], '/api/contacts/:id/edit', async (c) => {
    const replace = c.req.method === 'PUT';
    const { contact, created } = await editMauticContact({ ctx: c.get('ctx'), input: { id: idParam(c), body: bodyOf(c), replace } });
    return reply(c, { contact }, created ? 201 : 200);
  })
  .delete('/api/contacts/:id/delete', async (c) => reply(c, { contact: await deleteMauticContact({ ctx: c.get('ctx'), input: { id: idParam(c) } }) }))
  .post('/api/contacts/:id/points/:op/:delta', async (c) => {
    const op = c.req.param('op');
    if (op !== 'plus' && op !== 'minus') throw new NotFoundError(`Points operation "${op.slice(0, 20)}" (plus or minus)`);
    const input = { id: idParam(c), op: op as 'plus' | 'minus', delta: c.req.param('delta'), body: bodyOf(c) };
    return reply(c, await changeMauticPoints({ ctx: c.get('ctx'), input }));
  })
  .post('/api/contacts/:id/dnc/:channel/add', async (c) =>
    reply(c, await addMauticDnc({ ctx: c.get('ctx'), input: { id: idParam(c), channel: c.req.param('channel'), body: bodyOf(c) } })),
  )
  .post('/api/contacts/:id/dnc/:channel/remove', async (c) =>
    reply(c, await removeMauticDnc({ ctx: c.get('ctx'), input: { id: idParam(c), channel: c.req.param('channel') } })),
  )
  .get('/api/contacts/:id/segments', async (c) => reply(c, await mauticContactSegments({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .get('/api/contacts/:id/companies', async (c) => reply(c, await mauticContactCompanies({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .get('/api/contacts/:id/campaigns', async (c) => reply(c, await mauticContactCampaigns({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .get('/api/contacts/:id/activity', async (c) => {
    const q = c.req.query();
    return reply(c, await mauticContactActivity({ ctx: c.get('ctx'), input: { id: idParam(c), page: q.page, limit: q.limit } }));
  });
