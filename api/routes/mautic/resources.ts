import { Hono } from 'hono';
import type { AppEnv } from '../shared';
import { NotFoundError } from '../../core/errors';
import { windowOf } from '../../core/mautic/paging';
import {
  deleteMauticSegment,
  editMauticSegment,
  getMauticSegment,
  listMauticSegments,
  listMauticStages,
  listMauticTags,
  mauticCompanyFields,
  mauticContactFields,
  mauticSegmentContact,
  mauticSegmentContacts,
  mauticSelf,
  mauticStageContact,
  newMauticSegment,
  newMauticTag,
} from '../../core/mautic/catalog';
import {
  deleteMauticCompany,
  editMauticCompany,
  getMauticCompany,
  listMauticCompanies,
  mauticCompanyContact,
  newMauticCompany,
} from '../../core/mautic/companies';
import {
  getMauticCampaign,
  getMauticEmail,
  getMauticForm,
  listMauticCampaigns,
  listMauticEmails,
  listMauticForms,
  mauticCampaignContact,
  mauticCampaignContacts,
  mauticFormSubmissions,
  sendMauticEmailToContact,
  sendMauticEmailToSegments,
} from '../../core/mautic/content';
import { apiReason } from '../../core/email/queue';
import { kickSendLoop } from '../../core/email/loop';
import { runBroadcasts } from '../../core/email/broadcast-run';
import { kickCampaigns } from '../../core/campaigns/run';
import { defer } from '../defer';
import { bodyOf, idParam, reply } from './shared';

/** add | remove at the end of Mautic's membership paths. */
function action(c: { req: { param: (n: string) => string } }): boolean {
  const a = c.req.param('action');
  if (a !== 'add' && a !== 'remove') throw new NotFoundError(`Action "${a.slice(0, 20)}" (add or remove)`);
  return a === 'add';
}

/** Mautic's segments (`lists`), companies, stages, tags, fields, forms, emails, campaigns and users/self. */
export const mauticResourceRoutes = new Hono<AppEnv>()
  // Segments
  .get('/api/segments', async (c) => reply(c, await listMauticSegments({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .post('/api/segments/new', async (c) => reply(c, await newMauticSegment({ ctx: c.get('ctx'), input: bodyOf(c) }), 201))
  .get('/api/segments/:id', async (c) => reply(c, await getMauticSegment({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .on(['PATCH', 'PUT'], '/api/segments/:id/edit', async (c) => {
    const { list, created } = await editMauticSegment({ ctx: c.get('ctx'), input: { id: idParam(c), body: bodyOf(c), replace: c.req.method === 'PUT' } });
    return reply(c, { list }, created ? 201 : 200);
  })
  .delete('/api/segments/:id/delete', async (c) => reply(c, await deleteMauticSegment({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .post('/api/segments/:id/contact/:contactId/:action', async (c) =>
    reply(c, await mauticSegmentContact({ ctx: c.get('ctx'), input: { id: idParam(c), contactId: idParam(c, 'contactId'), add: action(c) } })),
  )
  .post('/api/segments/:id/contacts/add', async (c) => reply(c, await mauticSegmentContacts({ ctx: c.get('ctx'), input: { id: idParam(c), body: bodyOf(c) } })))
  // Companies
  .get('/api/companies', async (c) => {
    const q = c.req.query();
    return reply(c, await listMauticCompanies({ ctx: c.get('ctx'), input: { ...windowOf(q), search: q.search } }));
  })
  .post('/api/companies/new', async (c) => {
    const { company, created } = await newMauticCompany({ ctx: c.get('ctx'), input: bodyOf(c) });
    return reply(c, { company }, created ? 201 : 200);
  })
  .get('/api/companies/:id', async (c) => reply(c, await getMauticCompany({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .on(['PATCH', 'PUT'], '/api/companies/:id/edit', async (c) => {
    const { company, created } = await editMauticCompany({ ctx: c.get('ctx'), input: { id: idParam(c), body: bodyOf(c), replace: c.req.method === 'PUT' } });
    return reply(c, { company }, created ? 201 : 200);
  })
  .delete('/api/companies/:id/delete', async (c) => reply(c, await deleteMauticCompany({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .post('/api/companies/:id/contact/:contactId/:action', async (c) =>
    reply(c, await mauticCompanyContact({ ctx: c.get('ctx'), input: { companyId: idParam(c), contactId: idParam(c, 'contactId'), add: action(c) } })),
  )
  // Stages, tags, fields
  .get('/api/stages', async (c) => reply(c, await listMauticStages({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .post('/api/stages/:id/contact/:contactId/:action', async (c) =>
    reply(c, await mauticStageContact({ ctx: c.get('ctx'), input: { id: idParam(c), contactId: idParam(c, 'contactId'), add: action(c) } })),
  )
  .get('/api/tags', async (c) => reply(c, await listMauticTags({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .post('/api/tags/new', async (c) => {
    const { tag, created } = await newMauticTag({ ctx: c.get('ctx'), input: bodyOf(c) });
    return reply(c, { tag }, created ? 201 : 200);
  })
  .get('/api/fields/contact', async (c) => reply(c, await mauticContactFields({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .get('/api/fields/company', (c) => reply(c, mauticCompanyFields({ input: windowOf(c.req.query()) })))
  // Forms
  .get('/api/forms', async (c) => reply(c, await listMauticForms({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .get('/api/forms/:id', async (c) => reply(c, await getMauticForm({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .get('/api/forms/:id/submissions', async (c) =>
    reply(c, await mauticFormSubmissions({ ctx: c.get('ctx'), input: { id: idParam(c), ...windowOf(c.req.query()) } })),
  )
  // Emails
  .get('/api/emails', async (c) => reply(c, await listMauticEmails({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .get('/api/emails/:id', async (c) => reply(c, await getMauticEmail({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .post('/api/emails/:id/contact/:contactId/send', async (c) => {
    const ctx = c.get('ctx');
    const reason = apiReason(c.get('apiKey').id, c.req.header('idempotency-key'));
    const { send, answer } = await sendMauticEmailToContact({ ctx, input: { id: idParam(c), contactId: idParam(c, 'contactId'), body: bodyOf(c), reason } });
    if (send.status === 'pending') defer(c, kickSendLoop(ctx));
    return reply(c, answer);
  })
  .post('/api/emails/:id/send', async (c) => {
    const ctx = c.get('ctx');
    const { answer } = await sendMauticEmailToSegments({ ctx, input: { id: idParam(c), body: bodyOf(c) } });
    defer(c, runBroadcasts(ctx, { budgetMs: 2_000 }).then(() => kickSendLoop(ctx)));
    return reply(c, answer);
  })
  // Campaigns
  .get('/api/campaigns', async (c) => reply(c, await listMauticCampaigns({ ctx: c.get('ctx'), input: windowOf(c.req.query()) })))
  .get('/api/campaigns/:id', async (c) => reply(c, await getMauticCampaign({ ctx: c.get('ctx'), input: { id: idParam(c) } })))
  .get('/api/campaigns/:id/contacts', async (c) =>
    reply(c, await mauticCampaignContacts({ ctx: c.get('ctx'), input: { id: idParam(c), ...windowOf(c.req.query()) } })),
  )
  .post('/api/campaigns/:id/contact/:contactId/:action', async (c) => {
    const ctx = c.get('ctx');
    const add = action(c);
    const out = await mauticCampaignContact({ ctx, input: { id: idParam(c), contactId: idParam(c, 'contactId'), add } });
    if (add) defer(c, kickCampaigns(ctx));
    return reply(c, out);
  })
  // The caller
  .get('/api/users/self', async (c) => reply(c, { ...(await mauticSelf({ ctx: c.get('ctx'), input: { apiKey: c.get('apiKey'), user: c.get('session')?.user } })) }));
