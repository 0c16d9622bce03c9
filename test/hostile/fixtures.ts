// Real objects to point path parameters at: the walker fills {id} with these
// as well as with hostile ids, so the handlers past the lookup run too.
import type { TestApp } from '../helpers';
import { CHROME_UA, sign } from '../tracking-helpers';

export const ORIGIN = 'https://shop.example.com';

/** The walk's apps run with this RESEND_WEBHOOK_SECRET, so signed webhooks get past the signature. */
export const HOSTILE_WEBHOOK_SECRET = `whsec_${Buffer.from('hostile-walk-webhook-secret-0123').toString('base64')}`;

/** One custom field of every type, made once per app: contact bodies, CSV columns and form mappings write to them. */
export const TYPED_FIELDS = ['text', 'textarea', 'number', 'boolean', 'date', 'datetime', 'email', 'url', 'tel', 'select', 'multiselect', 'country'] as const;
export const typedKey = (type: string) => `ft_${type}`;

export interface Fixtures {
  /** Ids by the collection name in the path (contacts, companies, …). */
  ids: Record<string, number[]>;
  tags: string[];
  site: { id: number; public_key: string; secret: string };
  formId: number;
  assetSlug: string;
  /** A published landing page's slug (/p/{slug}). */
  pageSlug: string;
  visitorUid: string;
  /** Secrets of a key that was created and then revoked. */
  revokedKey: string;
  /** Genuine open and click tokens from the send's message in the outbox (the /o and /c links). */
  emailTokens: { open: string; click: string };
  /** Bodies known to be valid, by "METHOD /path template", the bases the walker mutates. */
  bodies: Record<string, unknown>;
  /** The token of the unsubscribe link in the fixture send's message (/u/{token}). */
  unsubscribeToken: string;
  categoryIds: number[];
  /** Provider ids of sends (outbox-<id> here), for signed provider webhooks that find their send. */
  providerIds: string[];
  /** A CRM integration and its secret, for signed POST /webhooks/deals that get past the signature. */
  dealIntegration: { id: number; secret: string };
}

let serial = 0;

export const SEGMENT_FILTERS: unknown[] = [
  { tag: 'fx-tag' },
  { tag: 'fx-tag', has: false },
  { field: 'points', op: 'gt', value: 5 },
  { field: 'email', op: 'ends_with', value: '@example.com' },
  { field: 'fields.fx_text', op: 'contains', value: 'a' },
  { field: 'company.name', op: 'equals', value: 'Acme' },
  { all: [{ tag: 'fx-tag' }, { any: [{ dnc: 'email', is: false }, { not: { field: 'stage', op: 'empty' } }] }] },
  { behaviour: 'visited', url: { op: 'contains', value: '/pricing' }, within_days: 7 },
  { field: 'created_at', op: 'between', value: ['2020-01-01', '2030-01-01'] },
  { field: 'city', op: 'in', value: ['Paris', 'Lyon'] },
  { field: 'first_name', op: 'regex', value: '^A' },
  // Runs on hostile page URLs (see the generator's long "aaa…!" paths): linear in the database's REGEXP.
  { behaviour: 'visited', url: { op: 'regex', value: '(a|a)+$' } },
];

export async function makeFixtures(t: TestApp): Promise<Fixtures> {
  const n = ++serial;
  const must = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await t.json(method, path, body, headers ? { headers } : undefined);
    if (r.status >= 300) throw new Error(`fixture ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const bodies: Record<string, unknown> = {};
  const create = async (collection: string, body: Record<string, unknown>) => {
    bodies[`POST /api/v1/${collection}`] = body;
    return (await must('POST', `/api/v1/${collection}`, body)).id as number;
  };

  bodies['POST /api/v1/sites'] = { name: `Site ${n}`, allowed_origins: [ORIGIN, 'https://*.example.org'], settings: { respect_dnt: true }, timezone: 'Europe/Paris' };
  const site = await must('POST', '/api/v1/sites', bodies['POST /api/v1/sites']);
  bodies['POST /api/v1/segments/preview'] = { filter: SEGMENT_FILTERS[n % SEGMENT_FILTERS.length] };
  const field = await create('fields', { key: `fx_text_${n}`, label: `Text ${n}`, type: 'text' });
  const select = await create('fields', { key: `fx_sel_${n}`, label: `Select ${n}`, type: 'multiselect', options: ['a', 'b'] });
  await t.json('POST', '/api/v1/fields', { key: 'fx_text', label: 'Text', type: 'text' });
  // Made on the first round; later rounds get a 409 and keep them (unless the walk deleted one: then it is made again).
  for (const type of TYPED_FIELDS) {
    const options = type === 'select' || type === 'multiselect' ? ['a', 'b', 'Ü'] : undefined;
    await t.json('POST', '/api/v1/fields', { key: typedKey(type), label: `Typed ${type}`, type, ...(options ? { options } : {}) });
  }
  const contacts: number[] = [];
  for (let i = 0; i < 3; i++) {
    contacts.push(
      await create('contacts', {
        email: `fx-${n}-${i}@example.com`,
        first_name: 'Ada',
        city: 'Paris',
        fields: { [`fx_text_${n}`]: 'abc', [`fx_sel_${n}`]: ['a'] },
        tags: ['fx-tag', `fx-${n}`],
      }),
    );
  }
  const company = await create('companies', { name: 'Acme', domain: `acme${n}.example.com`, employees: 10 });
  const stage = await create('stages', { name: `Stage ${n}`, position: n % 10_000, is_mql: n % 2 === 0 });
  const rule = await create('point-rules', { name: `Rule ${n}`, event_type: 'page_view', delta: 5, filter: { url: { op: 'contains', value: '/pricing' } } });
  await create('point-rules', { name: `Regex rule ${n}`, event_type: 'page_view', delta: 1, filter: { url: { op: 'regex', value: '/(a|a)+$' } } });
  const segment = await create('segments', { name: `Segment ${n}`, filter: SEGMENT_FILTERS[n % SEGMENT_FILTERS.length] });
  const actions: unknown[] = [
    { type: 'add_tags', tags: ['hot'] },
    { type: 'change_stage', stage_id: stage },
    { type: 'add_to_segment', segment_id: segment },
  ];
  // A webhook to a closed port on loopback (where the app allows loopback, as makeApp does): deliveries fail and wait for a retry.
  const hooked = await t.json('POST', '/api/v1/point-triggers', { name: `Trigger ${n}`, threshold: 1, actions: [...actions, { type: 'webhook', url: 'http://127.0.0.1:9/hook' }] });
  const trigger = hooked.status === 201 ? (hooked.body.id as number) : await create('point-triggers', { name: `Trigger ${n}`, threshold: 1, actions });
  const formId = await create('forms', {
    name: `Form ${n}`,
    fields: [
      { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
      { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
      { key: 'note', label: 'Note', type: 'textarea', maps_to: `fields.fx_text_${n}` },
      { key: 'count', label: 'Count', type: 'number', rules: { min: 0, max: 10 } },
      { key: 'pick', label: 'Pick', type: 'checkbox_group', options: ['a', 'b'] },
      { key: 'when', label: 'When', type: 'date' },
      { key: 'src', type: 'hidden', source: 'utm_source' },
      // Written to the contact's typed custom fields: the contact's rules run on what visitors type.
      ...(
        [
          ['number', 'number'],
          ['date', 'date'],
          ['url', 'text'],
          ['tel', 'tel'],
          ['select', 'select'],
          ['country', 'country'],
        ] as const
      ).map(([type, formType]) => ({
        key: `t_${type}`,
        label: `Typed ${type}`,
        type: formType,
        maps_to: `fields.${typedKey(type)}`,
        ...(formType === 'select' ? { options: ['a', 'b', 'Ü'] } : {}),
      })),
    ],
    actions: [
      { type: 'add_tags', tags: ['from-form'] },
      { type: 'give_points', points: 3, reason: 'form' },
      { type: 'add_to_segment', segment_id: segment },
    ],
    progressive_profiling: { enabled: true, max_new_fields: 2 },
  });
  bodies['POST /api/v1/forms/preview'] = bodies['POST /api/v1/forms'];
  const focus = await create('focus-items', {
    name: `Focus ${n}`,
    site_id: site.id,
    style: { type: 'bar' },
    content: { kind: 'form', form_id: formId },
    trigger: { type: 'load' },
  });
  bodies['POST /api/v1/focus-items/preview'] = bodies['POST /api/v1/focus-items'];
  const page = await create('pages', {
    site_id: site.id,
    slug: `fx-page-${n}`,
    title: `Page ${n}`,
    sections: [{ type: 'hero', heading: 'Hi', cta: { label: 'Go', url: '#f' } }, { type: 'markdown', markdown: '**x** <img src=x onerror=alert(1)>' }, { type: 'columns', columns: [[{ type: 'form', form_id: formId }], [{ type: 'html', html: '<p>y</p>' }]] }],
  });
  bodies['POST /api/v1/pages/preview'] = bodies['POST /api/v1/pages'];
  await must('POST', `/api/v1/pages/${page}/publish`);
  // A slot with every kind of rule (a filter that runs a regex on hostile values too).
  const slot = await create('slots', {
    site_id: site.id,
    name: `fx-slot-${n}`,
    variants: [
      { key: 'vip', format: 'html', content: '<p class="vip">Hi <img src=x onerror=alert(1)></p>' },
      { key: 'all', content: '**Hello** [there](https://example.com)' },
    ],
    rules: [
      { when: { filter: { all: [{ tag: 'fx-tag' }, { field: 'first_name', op: 'regex', value: '^(a|a)+$' }] } }, variant: 'vip' },
      { when: { stage_id: stage }, variant: 'vip' },
      { when: { identity: 'any' }, variant: 'all' },
    ],
  });
  bodies['POST /api/v1/pages/{id}/preview-link'] = { expires_in: 600 };
  // An A/B test on it: a variant (with a tracked button and the form), a goal, the winner's body.
  bodies['POST /api/v1/pages/{id}/variants'] = {
    name: `Variant ${n}`,
    sections: [{ type: 'hero', heading: 'Hi B', cta: { label: 'Go', url: '#f', id: 'go' } }, { type: 'form', form_id: formId }],
    weight: 1,
  };
  const variant = (await must('POST', `/api/v1/pages/${page}/variants`, bodies['POST /api/v1/pages/{id}/variants'])).id as number;
  bodies['PATCH /api/v1/pages/{id}/variants/{variantId}'] = { name: `Renamed ${n}`, weight: 2 };
  bodies['POST /api/v1/pages/{id}/winner'] = { variant_id: 0 };
  await must('PATCH', `/api/v1/pages/${page}`, { ab_test: { goal: { type: 'cta_click', cta_id: 'go' }, min_visitors: 10, auto_winner: true } });
  const asset = await t.call('POST', `/api/v1/assets?filename=fx-${n}.txt&title=File%20${n}`, 'hello', { headers: { 'content-type': 'text/plain' } });
  if (asset.status !== 201) throw new Error(`fixture asset: ${asset.status} ${await asset.text()}`);
  const a = await asset.json();
  bodies['PATCH /api/v1/assets/{id}'] = { title: `Renamed ${n}`, is_sample: false };
  const key = await must('POST', '/api/v1/api-keys', { name: `Spare ${n}`, scopes: ['read'] });
  const revoked = await must('POST', '/api/v1/api-keys', { name: `Revoked ${n}`, scopes: ['admin'] });
  await must('DELETE', `/api/v1/api-keys/${revoked.id}`);
  await must('PUT', `/api/v1/companies/${company}/contacts/${contacts[0]}`, {});

  // A visitor with a page view and a signed identify, so /visitors/{id} and timelines have rows.
  const visitorUid = `fixturevisitor${String(n).padStart(6, '0')}`;
  const email = `fx-${n}-0@example.com`;
  const hit = await t.app.request('/t', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: site.public_key, v: visitorUid, e: [{ t: 'pv', u: `${ORIGIN}/pricing?utm_source=fx` }], id: { email, sig: sign(site.secret, email) } }),
  });
  if (hit.status !== 202) throw new Error(`fixture /t: ${hit.status} ${await hit.text()}`);
  const visitor = await must('GET', `/api/v1/visitors?site_id=${site.id}&visitor_id=${visitorUid}`);
  const deliveries = ((await t.json('GET', '/api/v1/webhook-deliveries?limit=20')).body?.data ?? []) as { id: number }[];

  // Email: a category, a personalised email and a transactional one, a send through the outbox.
  const category = await create('email-categories', { key: `fx-cat-${n}`, name: `Category ${n}` });
  // One no email uses, so the walk's DELETE can succeed (a category in use is a 409).
  const spareCategory = await create('email-categories', { key: `fx-spare-${n}`, name: `Spare ${n}` });
  const emailId = await create('emails', {
    name: `Email ${n}`,
    subject: 'Hi {{ contact.first_name | default: "there" }}',
    html: `<style>p { color: red }</style><p>{{ contact.fields.fx_text | default: "x" }} <a href="${ORIGIN}/offer?x=1&amp;y=2">offer</a> <a href="{{ unsubscribe_url }}">leave</a></p>`,
    category_id: category,
  });
  const receipt = await must('POST', '/api/v1/emails', { name: `Receipt ${n}`, kind: 'transactional', subject: 'Order {{ order }}', html: '<p>{{ order }}</p>' });
  bodies['POST /api/v1/emails/{id}/send'] = { contact_id: contacts[0] };
  bodies['POST /api/v1/emails/{id}/preview'] = { contact_id: contacts[1] };
  bodies['POST /api/v1/emails/{id}/test'] = { to: `fx-test-${n}@example.com`, contact_id: contacts[2] };
  bodies['PUT /api/v1/contacts/{id}/subscriptions'] = { categories: [{ category_id: category, subscribed: false }] };
  // A broadcast email (the only kind POST /emails/{id}/broadcast takes) and a broadcast of it, A/B tested.
  const broadcastEmail = await must('POST', '/api/v1/emails', { name: `Broadcast ${n}`, kind: 'broadcast', subject: 'News {{ contact.first_name }}', html: '<p>News</p>', category_id: category });
  bodies['POST /api/v1/emails/{id}/broadcast'] = {
    segment_ids: [segment],
    send_at: new Date(Date.now() + 3_600_000).toISOString(),
    ab_test: { subjects: ['A {{ contact.first_name }}', 'B'], sample_percent: 20, metric: 'open', decide_after: 3600 },
  };
  // Scheduled an hour ahead, so the walk finds it cancellable; the email above stays free for the walk's broadcasts.
  const scheduledEmail = await must('POST', '/api/v1/emails', { name: `Scheduled ${n}`, kind: 'broadcast', subject: 'Later', html: '<p>Later</p>' });
  const broadcast = await must('POST', `/api/v1/emails/${scheduledEmail.id}/broadcast`, bodies['POST /api/v1/emails/{id}/broadcast']);
  const send = await must('POST', `/api/v1/emails/${emailId}/send`, { contact_id: contacts[0] });
  await must('POST', '/api/v1/jobs/emails');
  // The loop the send kicked may hold the row for a moment: wait for its message.
  let outbox: { id: number; send_id: number }[] = [];
  let inOutbox: { id: number; send_id: number } | undefined;
  for (let i = 0; i < 100 && !inOutbox; i++) {
    if (i) await new Promise((ok) => setTimeout(ok, 20));
    outbox = ((await t.json('GET', `/api/v1/outbox?limit=5&to=${encodeURIComponent(`fx-${n}-0@example.com`)}`)).body?.data ?? []) as { id: number; send_id: number }[];
    inOutbox = outbox.find((m) => m.send_id === send.id);
  }
  const sent = (await t.json('GET', `/api/v1/email-sends/${send.id}`)).body as { provider_id: string | null } | null;
  // The walk posts to this message's unsubscribe link (one-click and the preference forms).
  const message = inOutbox ? await must('GET', `/api/v1/outbox/${inOutbox.id}`) : null;
  const unsubscribeToken = /\/u\/([^>?]+)>/.exec(message?.headers?.['List-Unsubscribe'] ?? '')?.[1] ?? 'preview';
  // And GETs its open pixel and tracked link.
  const html = String(message?.html ?? '');
  const emailTokens = { open: /\/o\/([\w.-]+)/.exec(html)?.[1] ?? 'nope.nope', click: /\/c\/([\w.-]+)/.exec(html)?.[1] ?? 'nope.nope' };
  if (emailTokens.click === 'nope.nope') throw new Error(`fixture: no tracked link in the sent message ${JSON.stringify(send)}: ${html.slice(0, 300)}`);

  // The campaigns' segment source is a static list: a dynamic segment (fx-tag…) would enroll later
  // rounds' fixture contacts into this round's campaigns, whose emails would then count against the
  // frequency caps the walk sets, and the fixture send above would be skipped.
  const list = await must('POST', '/api/v1/segments', { name: `Campaign list ${n}`, kind: 'static' });
  await must('PUT', `/api/v1/segments/${list.id}/members/${contacts[1]}`);
  // Campaigns: an active one with the fixture contacts in it (one of their steps parked as failed, so
  // a retry has something to retry), another active one, a paused one and a draft; each round makes new ones.
  const campaignBody = {
    name: `Campaign ${n}`,
    description: 'Every kind of step',
    definition: {
      sources: [{ type: 'segment', segment_id: list.id, exit_on_leave: true }, { type: 'form', form_id: formId }, { type: 'event', name: 'fx-signup' }],
      start: 'mail',
      steps: [
        { id: 'mail', type: 'action', name: 'Welcome', action: { type: 'send_email', email_id: emailId }, next: 'pause' },
        { id: 'pause', type: 'wait', wait: { for: { minutes: 1 } }, next: 'clicked' },
        { id: 'clicked', type: 'decision', on: { event: 'email_clicked', email_id: emailId }, timeout: { minutes: 5 }, yes: 'tag', no: 'split' },
        { id: 'tag', type: 'action', action: { type: 'add_tags', tags: ['fx-campaign'] }, next: 'hook' },
        // Where loopback is refused (the real server), the campaign exits here instead (below).
        { id: 'hook', type: 'action', action: { type: 'webhook', url: 'http://127.0.0.1:9/campaign' } as Record<string, unknown>, next: null },
        { id: 'split', type: 'split', branches: [{ percent: 50, next: 'vip' }, { percent: 50, next: 'window' }] },
        { id: 'vip', type: 'condition', filter: { tag: 'fx-tag' }, yes: 'points', no: null },
        { id: 'points', type: 'action', action: { type: 'points', op: 'add', value: 5 }, next: 'notify' },
        { id: 'notify', type: 'action', action: { type: 'notify', email_id: receipt.id, to: 'sales@example.com' }, next: 'fields' },
        { id: 'fields', type: 'action', action: { type: 'set_fields', fields: { city: 'Lyon', 'fields.fx_text': 'campaign' } }, next: null },
        { id: 'window', type: 'wait', wait: { window: { days: ['mon', 'tue'], from: '09:00', to: '11:00' } }, next: 'stage' },
        { id: 'stage', type: 'action', action: { type: 'change_stage', stage_id: stage }, next: null },
      ],
      goals: [
        { id: 'bought', name: 'Purchased', on: { event: 'custom', name: 'purchase' } },
        { id: 'hot', filter: { field: 'points', op: 'gt', value: 100 } },
      ],
      reentry: { after_days: 1 },
    },
  };
  const withHook = await t.json('POST', '/api/v1/campaigns', campaignBody);
  if (withHook.status !== 201) campaignBody.definition.steps[4]!.action = { type: 'exit' };
  bodies['POST /api/v1/campaigns'] = campaignBody;
  const campaign = withHook.status === 201 ? withHook.body : await must('POST', '/api/v1/campaigns', campaignBody);
  await must('POST', `/api/v1/campaigns/${campaign.id}/publish`);
  bodies['POST /api/v1/campaigns/{id}/contacts'] = { contact_ids: contacts };
  await must('POST', `/api/v1/campaigns/${campaign.id}/contacts`, { contact_ids: contacts });
  // In process, one open step is parked as failed in the database (five real failures take an hour
  // of backoff; a scheduler holding the row meanwhile commits nothing, its fence needs it open);
  // against the real server there is no database handle, and the runs are only listed.
  const parked = t.client
    ? (
        await t.client.execute({
          sql: "UPDATE campaign_steps SET status = 'failed', failures = 5, error = 'fixture: parked', lease_owner = NULL WHERE id = (SELECT max(id) FROM campaign_steps WHERE campaign_id = ? AND status IN ('pending', 'waiting')) RETURNING id",
          args: [campaign.id],
        })
      ).rows.map((r) => Number(r.id))
    : ((await must('GET', `/api/v1/campaigns/${campaign.id}/steps?limit=5`)).data as { id: number }[]).map((r) => r.id);
  // A second active one: the walk pauses and archives what it finds, and enrolling needs an active campaign.
  const spare = await must('POST', '/api/v1/campaigns', { ...campaignBody, name: `Spare ${n}` });
  await must('POST', `/api/v1/campaigns/${spare.id}/publish`);
  const paused = await must('POST', '/api/v1/campaigns', { ...campaignBody, name: `Paused ${n}` });
  await must('POST', `/api/v1/campaigns/${paused.id}/publish`);
  await must('POST', `/api/v1/campaigns/${paused.id}/pause`);
  const draft = await must('POST', '/api/v1/campaigns', { name: `Draft ${n}`, definition: { start: 'a', steps: [{ id: 'a', type: 'action', action: { type: 'exit' } }] } });

  // Deals: an open one with every field, a won one (its contact moves to Close), and a CRM integration.
  const deal = await create('deals', {
    contact_id: contacts[1],
    company_id: company,
    name: `Deal ${n}`,
    amount: 1234.5,
    currency: 'EUR',
    expected_close_date: '2026-12-31',
    owner: 'sam@example.com',
    source: { lead_source: 'fixture', seats: 5, partner: false },
  });
  const wonDeal = (await must('POST', '/api/v1/deals', { contact_id: contacts[2], name: `Won ${n}`, amount: 99.99, currency: 'USD', stage: 'won', closed_at: '2026-01-15' })).id as number;
  bodies['POST /api/v1/deal-integrations'] = { name: `CRM ${n}` };
  const integration = await must('POST', '/api/v1/deal-integrations', bodies['POST /api/v1/deal-integrations']);
  // A webhook subscription to a closed port on loopback (where the app allows it, as makeApp does:
  // pings and deliveries fail at once); against the real server, which refuses loopback, none.
  // This round's form only, so later rounds' traffic does not pile up deliveries on every round's hook.
  bodies['POST /api/v1/webhooks'] = { url: 'http://127.0.0.1:9/hook', event_types: ['form.submitted'], filters: { form_id: formId }, description: `Hook ${n}` };
  const hook = await t.json('POST', '/api/v1/webhooks', bodies['POST /api/v1/webhooks']);

  return {
    ids: {
      contacts,
      companies: [company],
      fields: [field, select],
      stages: [stage],
      'point-rules': [rule],
      'point-triggers': [trigger],
      segments: [segment],
      forms: [formId],
      'focus-items': [focus],
      pages: [page],
      variants: [variant, 0],
      slots: [slot],
      assets: [a.id],
      'api-keys': [key.id],
      sites: [site.id],
      visitors: [visitor.id],
      'webhook-deliveries': deliveries.length ? deliveries.map((d) => d.id) : [1],
      emails: [emailId, broadcastEmail.id],
      broadcasts: [broadcast.id],
      'email-categories': [category, spareCategory],
      'email-sends': [send.id],
      outbox: outbox.length ? outbox.map((m) => m.id) : [1],
      campaigns: [campaign.id, spare.id, paused.id, draft.id],
      // Step runs (GET /campaigns/{id}/steps): the parked one.
      steps: parked.length ? parked : [1],
      deals: [deal, wonDeal],
      'deal-integrations': [integration.id],
      webhooks: hook.status === 201 ? [hook.body.id as number] : [1],
    },
    tags: ['fx-tag', `fx-${n}`],
    site,
    formId,
    assetSlug: a.slug,
    pageSlug: `fx-page-${n}`,
    visitorUid,
    revokedKey: revoked.secret,
    emailTokens,
    bodies,
    unsubscribeToken,
    categoryIds: [category],
    providerIds: sent?.provider_id ? [sent.provider_id] : ['outbox-1'],
    dealIntegration: { id: integration.id, secret: integration.secret },
  };
}
