// Campaigns through the REST API, over real HTTP handling (makeApp) with a frozen clock: the
// lifecycle (draft → active ⇄ paused → archived), versions, enrollment, the report and a
// contact's path, definitions refused with a 422 naming the field, conflicts, secrets shown
// once, failed steps and their retry, scopes. Scheduler effects are asserted after
// settleDeferred() (the kick an answer defers) or an explicit run of the campaigns job.
import { describe, it, expect } from 'vitest';
import { makeApp, expectError, type TestApp } from './helpers';
import { count, makeSite, runJob, sign, track, vid } from './tracking-helpers';
import { settleDeferred } from '../api/routes/defer';

const BASE = 'https://mail.example.com';
const START = Date.parse('2026-11-25T10:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SAFARI_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';

interface World {
  t: TestApp;
  tick: (ms: number) => void;
  ok: <T = any>(method: string, path: string, body?: unknown, status?: number) => Promise<T>;
}

async function world(): Promise<World> {
  const clock = { now: START };
  const t = await makeApp({ now: () => clock.now, env: { PUBLIC_URL: BASE } });
  const ok = async (method: string, path: string, body?: unknown, status?: number) => {
    const r = await t.json(method, path, body);
    if (status !== undefined ? r.status !== status : r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return { t, tick: (ms) => (clock.now += ms), ok };
}

const contact = async (w: World, email: string) => (await w.ok('POST', '/api/v1/contacts', { email })).id as number;
const email = async (w: World, name: string, extra: Record<string, unknown> = {}) =>
  (await w.ok('POST', '/api/v1/emails', { name, subject: name, html: `<p>${name}</p><p><a href="https://shop.example.com/offer">Offer</a></p>`, ...extra })).id as number;

/** A campaign whose steps only tag: `first` → wait `gap` → `last`. */
const tagging = (first: string, last: string, gap: Record<string, number> = { hours: 1 }) => ({
  start: 'first',
  steps: [
    { id: 'first', type: 'action', action: { type: 'add_tags', tags: [first] }, next: 'pause' },
    { id: 'pause', type: 'wait', wait: { for: gap }, next: 'last' },
    { id: 'last', type: 'action', action: { type: 'add_tags', tags: [last] }, next: null },
  ],
});

async function create(w: World, definition: unknown, name = 'Campaign') {
  return w.ok('POST', '/api/v1/campaigns', { name, definition }, 201);
}

/** Creates, publishes and enrolls; the first steps have run when it returns. */
async function running(w: World, definition: unknown, contacts: number[]) {
  const c = await create(w, definition);
  await w.ok('POST', `/api/v1/campaigns/${c.id}/publish`);
  if (contacts.length) expect(await w.ok('POST', `/api/v1/campaigns/${c.id}/contacts`, { contact_ids: contacts })).toEqual({ enrolled: contacts.length, not_enrolled: [] });
  await settleDeferred();
  return c.id as number;
}

const tagsOf = async (w: World, id: number) => ((await w.ok('GET', `/api/v1/contacts/${id}`)).tags as string[]).sort();
const passesOf = async (w: World, id: number) => (await w.ok('GET', `/api/v1/contacts/${id}/campaigns`)).data as any[];
const stepRows = async (w: World, campaign: number, query = '') => (await w.ok('GET', `/api/v1/campaigns/${campaign}/steps?limit=100${query}`)).data as any[];
const runCampaigns = async (w: World) => {
  await runJob(w.t, 'campaigns');
  await settleDeferred();
};

describe('a campaign from create to report', () => {
  it('create → publish → enroll; the email goes out, the click decides, the report and each contact’s path say what happened', async () => {
    const w = await world();
    const welcome = await email(w, 'Welcome');
    const nudge = await email(w, 'Nudge');
    const ann = await contact(w, 'ann@example.com');
    const bob = await contact(w, 'bob@example.com');
    const definition = {
      start: 'welcome',
      steps: [
        { id: 'welcome', type: 'action', action: { type: 'send_email', email_id: welcome }, next: 'pause' },
        { id: 'pause', type: 'wait', wait: { for: { days: 1 } }, next: 'clicked' },
        { id: 'clicked', type: 'decision', on: { event: 'email_clicked', email_id: welcome }, timeout: { hours: 4 }, yes: 'engaged', no: 'nudge' },
        { id: 'engaged', type: 'action', action: { type: 'add_tags', tags: ['engaged'] }, next: null },
        { id: 'nudge', type: 'action', action: { type: 'send_email', email_id: nudge }, next: null },
      ],
    };
    const created = await create(w, definition, 'Onboarding');
    expect(created).toMatchObject({ name: 'Onboarding', status: 'draft', version: null, published_at: null, definition: { start: 'welcome', reentry: 'never', sources: [], goals: [] } });
    expect(created.definition.steps).toHaveLength(5);

    // A draft takes nobody.
    expectError(await w.t.json('POST', `/api/v1/campaigns/${created.id}/contacts`, { contact_ids: [ann] }), 409, 'CONFLICT');
    const published = await w.ok('POST', `/api/v1/campaigns/${created.id}/publish`);
    expect(published).toMatchObject({ id: created.id, status: 'active', version: 1, enrolled: 0 });
    expect(published.published_at).toBe(new Date(START).toISOString());

    const enrolled = await w.ok('POST', `/api/v1/campaigns/${created.id}/contacts`, { contact_ids: [ann, bob, 987654] });
    expect(enrolled).toEqual({ enrolled: 2, not_enrolled: [987654] });
    // Already in: not enrolled again, not counted again (same instant).
    expect(await w.ok('POST', `/api/v1/campaigns/${created.id}/contacts`, { contact_ids: [ann] })).toEqual({ enrolled: 0, not_enrolled: [ann] });
    await settleDeferred();

    // The welcome step ran once per contact: one send row each, keyed by campaign, step and pass.
    const sends = await w.t.client.execute({ sql: 'SELECT contact_id, reason FROM email_sends WHERE email_id = ? ORDER BY contact_id', args: [welcome] });
    expect(sends.rows.map((r) => [Number(r.contact_id), String(r.reason)])).toEqual([
      [ann, `campaign:${created.id}:welcome:1`],
      [bob, `campaign:${created.id}:welcome:1`],
    ]);
    expect((await stepRows(w, created.id, '&step_id=pause')).map((s) => s.status)).toEqual(['waiting', 'waiting']);

    // A link scanner follows Bob's link as the message arrives (a machine: it does not count);
    // Ann clicks hers a minute after it went out (a person).
    await runJob(w.t, 'emails');
    const linkOf = async (who: number) => {
      const out = await w.t.client.execute({ sql: 'SELECT o.html FROM email_outbox o JOIN email_sends s ON s.id = o.send_id WHERE s.contact_id = ? AND s.email_id = ?', args: [who, welcome] });
      return /href="https:\/\/mail\.example\.com(\/c\/[^"]+)"/.exec(String(out.rows[0]!.html))![1]!;
    };
    expect((await w.t.app.request(await linkOf(bob), { headers: { 'user-agent': SAFARI_UA } })).status).toBe(302);
    w.tick(MIN);
    expect((await w.t.app.request(await linkOf(ann), { headers: { 'user-agent': SAFARI_UA } })).status).toBe(302);
    await runJob(w.t);
    expect(await count(w.t, "SELECT count(*) AS n FROM events WHERE type = 'email_clicked' AND contact_id = ? AND props ->> 'machine' = 1", [bob])).toBe(1);

    // A day later the wait ends: Ann clicked (yes → tagged), Bob is given 4 hours.
    w.tick(DAY);
    await runCampaigns(w);
    expect(await tagsOf(w, ann)).toEqual(['engaged']);
    expect(await tagsOf(w, bob)).toEqual([]);
    expect((await stepRows(w, created.id, '&step_id=clicked')).map((s) => [s.contact_id, s.status, s.branch])).toEqual([
      [bob, 'waiting', null],
      [ann, 'done', 'yes'],
    ]);
    w.tick(4 * HOUR);
    await runCampaigns(w);
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_sends WHERE email_id = ? AND contact_id = ?', [nudge, bob])).toBe(1);
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_sends WHERE email_id = ?', [nudge])).toBe(1);

    const report = await w.ok('GET', `/api/v1/campaigns/${created.id}/report`);
    expect(report.passes).toEqual({ entered: 2, active: 0, completed: 2, exited: 0, converted: 0, conversion_rate: 0 });
    const step = (id: string) => report.steps.find((s: any) => s.step_id === id);
    expect(step('welcome')).toMatchObject({ type: 'action', entered: 2, completed: 2, failed: 0 });
    expect(step('clicked')).toMatchObject({ type: 'decision', entered: 2, completed: 2, branches: { yes: 1, no: 1 } });
    expect(step('engaged')).toMatchObject({ entered: 1, completed: 1 });
    expect(step('nudge')).toMatchObject({ entered: 1, completed: 1 });

    const [annPass] = await passesOf(w, ann);
    expect(annPass).toMatchObject({ campaign: { id: created.id, name: 'Onboarding' }, rotation: 1, version: 1, status: 'completed', source: 'manual', current_step: null });
    expect(annPass.path.map((s: any) => [s.step_id, s.status, s.branch])).toEqual([
      ['welcome', 'done', null],
      ['pause', 'done', null],
      ['clicked', 'done', 'yes'],
      ['engaged', 'done', null],
    ]);
    expect((await passesOf(w, bob))[0].path.map((s: any) => s.step_id)).toEqual(['welcome', 'pause', 'clicked', 'nudge']);

    // Lists: by status, paged.
    expect((await w.ok('GET', '/api/v1/campaigns?status=active')).data.map((c: any) => c.id)).toEqual([created.id]);
    expect((await w.ok('GET', '/api/v1/campaigns?status=draft')).data).toEqual([]);
    const page1 = await w.ok('GET', `/api/v1/campaigns/${created.id}/steps?limit=3`);
    const page2 = await w.ok('GET', `/api/v1/campaigns/${created.id}/steps?limit=100&cursor=${page1.next_cursor}`);
    expect(page1.has_more).toBe(true);
    expect(page1.data.length + page2.data.length).toBe(8);
    expect(new Set([...page1.data, ...page2.data].map((s: any) => s.id)).size).toBe(8);
    expectError(await w.t.json('GET', `/api/v1/contacts/987654/campaigns`), 404, 'NOT_FOUND');
    expectError(await w.t.json('GET', `/api/v1/campaigns/987654/report`), 404, 'NOT_FOUND');
  });

  it('taking a contact out ends its pass and cancels its open step (204, then 404)', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const id = await running(w, tagging('in', 'out'), [ann]);
    const r = await w.t.call('DELETE', `/api/v1/campaigns/${id}/contacts/${ann}`);
    expect(r.status).toBe(204);
    expect(await r.text()).toBe('');
    const [pass] = await passesOf(w, ann);
    expect(pass).toMatchObject({ status: 'exited', end_reason: 'removed', current_step: null });
    expect(pass.path.map((s: any) => [s.step_id, s.status])).toEqual([
      ['first', 'done'],
      ['pause', 'cancelled'],
    ]);
    w.tick(2 * HOUR);
    await runCampaigns(w);
    expect(await tagsOf(w, ann)).toEqual(['in']);
    expectError(await w.t.json('DELETE', `/api/v1/campaigns/${id}/contacts/${ann}`), 404, 'NOT_FOUND');
  });
});

describe('definitions that cannot run are refused with a 422 naming the field', () => {
  it('cycles, unreachable steps, missing emails, endless waits, decisions without a timeout, splits off 100, notify with a marketing email, private webhooks', async () => {
    const w = await world();
    const marketing = await email(w, 'News');
    const action = (id: string, next: string | null, a: unknown = { type: 'add_tags', tags: ['x'] }) => ({ id, type: 'action', action: a, next });
    const cases: [string, unknown, string, RegExp][] = [
      ['cycle', { start: 'a', steps: [action('a', 'b'), action('b', 'a')] }, 'definition.steps.1', /cycle: a → b → a/],
      ['unreachable', { start: 'a', steps: [action('a', null), action('lost', null)] }, 'definition.steps.1', /cannot be reached/],
      ['missing email', { start: 'a', steps: [action('a', null, { type: 'send_email', email_id: 424242 })] }, 'definition.steps.0.action.email_id', /no such email/],
      ['wait without an end', { start: 'w', steps: [{ id: 'w', type: 'wait', wait: { for: {} }, next: null }] }, 'definition.steps.0.wait', /./],
      [
        'decision without timeout',
        { start: 'd', steps: [{ id: 'd', type: 'decision', on: { event: 'custom', name: 'x' }, yes: null, no: null }] },
        'definition.steps.0.timeout',
        /./,
      ],
      [
        'split off 100',
        { start: 's', steps: [{ id: 's', type: 'split', branches: [{ percent: 50, next: null }, { percent: 40, next: null }] }] },
        'definition.steps.0.branches',
        /add up to 100/,
      ],
      ['notify with a marketing email', { start: 'n', steps: [action('n', null, { type: 'notify', email_id: marketing, to: 'sales@example.com' })] }, 'definition.steps.0.action.email_id', /transactional/],
      ['private webhook', { start: 'h', steps: [action('h', null, { type: 'webhook', url: 'http://10.0.0.7/hook' })] }, 'definition.steps.0.action.url', /./],
    ];
    for (const [what, definition, field, message] of cases) {
      const r = await w.t.json('POST', '/api/v1/campaigns', { name: what, definition });
      expectError(r, 422, 'VALIDATION_FAILED');
      const hit = (r.body.error.details as { field: string; message: string }[]).find((d) => d.field === field || d.field.startsWith(`${field}.`));
      expect(hit, `${what}: ${JSON.stringify(r.body.error.details)}`).toBeTruthy();
      expect(hit!.message, what).toMatch(message);
    }
    expect(await count(w.t, 'SELECT count(*) AS n FROM campaigns')).toBe(0);

    // The same checks on PATCH; the working copy stays as it was.
    const c = await create(w, tagging('a', 'b'));
    const bad = await w.t.json('PATCH', `/api/v1/campaigns/${c.id}`, { definition: cases[0]![1] });
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(bad.body.error.details[0].field).toBe('definition.steps.1');
    expect((await w.ok('GET', `/api/v1/campaigns/${c.id}`)).definition.steps.map((s: any) => s.id)).toEqual(['first', 'pause', 'last']);
    // Unknown fields are named too.
    const unknown = await w.t.json('POST', '/api/v1/campaigns', { name: 'x', definition: { ...tagging('a', 'b'), colour: 'red' } });
    expectError(unknown, 422, 'VALIDATION_FAILED');
    expect(unknown.body.error.details).toContainEqual({ field: 'definition.colour', message: 'unknown field' });
    // A step the working copy names that was deleted after saving: publish checks again.
    const e = await email(w, 'Soon gone');
    const later = await create(w, { start: 'a', steps: [action('a', null, { type: 'send_email', email_id: e })] });
    await w.ok('DELETE', `/api/v1/emails/${e}`);
    const pub = await w.t.json('POST', `/api/v1/campaigns/${later.id}/publish`);
    expectError(pub, 422, 'VALIDATION_FAILED');
    expect(pub.body.error.details).toEqual([{ field: 'definition.steps.0.action.email_id', message: 'no such email' }]);
    expect((await w.ok('GET', `/api/v1/campaigns/${later.id}`)).status).toBe('draft');
  });
});

describe('the lifecycle', () => {
  it('409s: enrolling into a draft, deleting an active or paused campaign, publishing or editing an archived one', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const c = await create(w, tagging('a', 'b'));
    expectError(await w.t.json('POST', `/api/v1/campaigns/${c.id}/contacts`, { contact_ids: [ann] }), 409, 'CONFLICT');
    expectError(await w.t.json('POST', `/api/v1/campaigns/${c.id}/resume`), 409, 'CONFLICT');
    expectError(await w.t.json('POST', `/api/v1/campaigns/${c.id}/pause`), 409, 'CONFLICT');
    await w.ok('POST', `/api/v1/campaigns/${c.id}/publish`);
    expectError(await w.t.json('DELETE', `/api/v1/campaigns/${c.id}`), 409, 'CONFLICT');
    await w.ok('POST', `/api/v1/campaigns/${c.id}/pause`);
    expectError(await w.t.json('DELETE', `/api/v1/campaigns/${c.id}`), 409, 'CONFLICT');
    await w.ok('POST', `/api/v1/campaigns/${c.id}/archive`);
    expectError(await w.t.json('POST', `/api/v1/campaigns/${c.id}/publish`), 409, 'CONFLICT');
    expectError(await w.t.json('PATCH', `/api/v1/campaigns/${c.id}`, { name: 'Renamed' }), 409, 'CONFLICT');
    expectError(await w.t.json('POST', `/api/v1/campaigns/${c.id}/archive`), 409, 'CONFLICT');
    expectError(await w.t.json('POST', `/api/v1/campaigns/${c.id}/contacts`, { contact_ids: [ann] }), 409, 'CONFLICT');
    expect(await w.ok('DELETE', `/api/v1/campaigns/${c.id}`)).toEqual({ id: c.id, deleted: true });
    expectError(await w.t.json('GET', `/api/v1/campaigns/${c.id}`), 404, 'NOT_FOUND');
    // A draft can go at once.
    const draft = await create(w, tagging('a', 'b'));
    expect((await w.t.json('DELETE', `/api/v1/campaigns/${draft.id}`)).status).toBe(200);
  });

  it('pause keeps contacts where they are (nothing runs, nobody enters); resume continues from there', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const bob = await contact(w, 'bob@example.com');
    const id = await running(w, tagging('p1', 'p2'), [ann]);
    expect(await tagsOf(w, ann)).toEqual(['p1']);
    expect((await w.ok('POST', `/api/v1/campaigns/${id}/pause`)).status).toBe('paused');
    w.tick(2 * HOUR);
    await runCampaigns(w);
    expect(await tagsOf(w, ann)).toEqual(['p1']);
    const [pass] = await passesOf(w, ann);
    expect(pass).toMatchObject({ status: 'active', current_step: 'pause' });
    expect(pass.path.at(-1)).toMatchObject({ step_id: 'pause', status: 'waiting' });
    expectError(await w.t.json('POST', `/api/v1/campaigns/${id}/contacts`, { contact_ids: [bob] }), 409, 'CONFLICT');

    expect((await w.ok('POST', `/api/v1/campaigns/${id}/resume`)).status).toBe('active');
    await settleDeferred();
    expect(await tagsOf(w, ann)).toEqual(['p1', 'p2']);
    expect((await passesOf(w, ann))[0]).toMatchObject({ status: 'completed', current_step: null });
    expect(await count(w.t, "SELECT count(*) AS n FROM campaign_steps WHERE contact_id = ? AND step_id = 'last'", [ann])).toBe(1);
  });

  it('archive ends every pass and cancels open steps; nothing runs afterwards; the report keeps the history', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const bob = await contact(w, 'bob@example.com');
    const id = await running(w, tagging('a1', 'a2'), [ann, bob]);
    const archived = await w.ok('POST', `/api/v1/campaigns/${id}/archive`);
    expect(archived).toMatchObject({ status: 'archived', archived_at: new Date(START).toISOString() });
    expect((await stepRows(w, id, '&step_id=pause')).map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    for (const c of [ann, bob]) expect((await passesOf(w, c))[0]).toMatchObject({ status: 'exited', end_reason: 'archived', current_step: null });
    w.tick(DAY);
    await runCampaigns(w);
    expect(await tagsOf(w, ann)).toEqual(['a1']);
    const report = await w.ok('GET', `/api/v1/campaigns/${id}/report`);
    expect(report.passes).toMatchObject({ entered: 2, active: 0, exited: 2 });
    expect(report.steps.find((s: any) => s.step_id === 'pause')).toMatchObject({ cancelled: 2, waiting: 0 });
  });

  it('the signing secret is shown on create and rotate only', async () => {
    const w = await world();
    const c = await create(w, tagging('a', 'b'));
    expect(c.secret).toMatch(/^whsec_.{20,}/);
    const answers = [
      await w.ok('GET', `/api/v1/campaigns/${c.id}`),
      (await w.ok('GET', '/api/v1/campaigns')).data[0],
      await w.ok('PATCH', `/api/v1/campaigns/${c.id}`, { description: 'd' }),
      await w.ok('POST', `/api/v1/campaigns/${c.id}/publish`),
      await w.ok('POST', `/api/v1/campaigns/${c.id}/pause`),
      await w.ok('POST', `/api/v1/campaigns/${c.id}/resume`),
    ];
    for (const a of answers) {
      expect(a).not.toHaveProperty('secret');
      expect(JSON.stringify(a)).not.toContain(c.secret);
    }
    const rotated = await w.ok('POST', `/api/v1/campaigns/${c.id}/rotate-secret`);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(c.secret);
    expect(await w.ok('GET', `/api/v1/campaigns/${c.id}`)).not.toHaveProperty('secret');
    expect(await count(w.t, 'SELECT count(*) AS n FROM campaigns WHERE secret = ?', [rotated.secret])).toBe(1);
  });
});

describe('versions', () => {
  it('a contact in flight finishes on the version it entered with; new contacts follow the new one', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const bob = await contact(w, 'bob@example.com');
    const id = await running(w, tagging('v1-first', 'v1-last', { days: 1 }), [ann]);
    expect(await tagsOf(w, ann)).toEqual(['v1-first']);

    // v2 renames the wait (the step Ann waits at is not in v2) and changes what both ends do.
    const v2 = {
      start: 'first',
      steps: [
        { id: 'first', type: 'action', action: { type: 'add_tags', tags: ['v2-first'] }, next: 'hold' },
        { id: 'hold', type: 'wait', wait: { for: { days: 2 } }, next: 'last' },
        { id: 'last', type: 'action', action: { type: 'add_tags', tags: ['v2-last'] }, next: null },
      ],
    };
    const edited = await w.ok('PATCH', `/api/v1/campaigns/${id}`, { definition: v2 });
    // Edited, not yet published: still version 1 for new enrollments.
    expect(edited).toMatchObject({ version: 1 });
    expect((await w.ok('POST', `/api/v1/campaigns/${id}/publish`)).version).toBe(2);
    await w.ok('POST', `/api/v1/campaigns/${id}/contacts`, { contact_ids: [bob] });
    await settleDeferred();
    expect(await tagsOf(w, bob)).toEqual(['v2-first']);

    w.tick(DAY);
    await runCampaigns(w);
    expect(await tagsOf(w, ann)).toEqual(['v1-first', 'v1-last']);
    expect(await tagsOf(w, bob)).toEqual(['v2-first']);
    w.tick(DAY);
    await runCampaigns(w);
    expect(await tagsOf(w, bob)).toEqual(['v2-first', 'v2-last']);

    const [a] = await passesOf(w, ann);
    const [b] = await passesOf(w, bob);
    expect([a.version, a.status, a.path.map((s: any) => s.step_id)]).toEqual([1, 'completed', ['first', 'pause', 'last']]);
    expect([b.version, b.status, b.path.map((s: any) => s.step_id)]).toEqual([2, 'completed', ['first', 'hold', 'last']]);
    const report = await w.ok('GET', `/api/v1/campaigns/${id}/report`);
    expect(report.version).toBe(2);
    // Steps of the published version, and the one only v1 had.
    expect(report.steps.map((s: any) => [s.step_id, s.type, s.entered])).toEqual([
      ['first', 'action', 2],
      ['hold', 'wait', 1],
      ['last', 'action', 2],
      ['pause', null, 1],
    ]);
  });
});

describe('failures and retry', () => {
  it('a step whose email was deleted fails with backoff, is parked as failed, shows in the report and the list, and runs once when retried', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const e = await email(w, 'Later');
    const id = await running(
      w,
      {
        start: 'pause',
        steps: [
          { id: 'pause', type: 'wait', wait: { for: { hours: 1 } }, next: 'send' },
          { id: 'send', type: 'action', action: { type: 'send_email', email_id: e }, next: null },
        ],
      },
      [ann],
    );
    const saved = (await w.t.client.execute({ sql: 'SELECT * FROM emails WHERE id = ?', args: [e] })).rows[0]!;
    await w.ok('DELETE', `/api/v1/emails/${e}`);

    w.tick(HOUR);
    await runCampaigns(w);
    // Failing, not yet parked: the row waits for its backoff, the report shows the error.
    let [row] = await stepRows(w, id, '&step_id=send');
    expect(row).toMatchObject({ status: 'pending', failures: 1, error: 'Email not found.' });
    expect(row.due_at).toBe(new Date(START + HOUR + 30_000).toISOString());
    for (const wait of [30_000, 2 * MIN, 10 * MIN, HOUR]) {
      w.tick(wait);
      await runCampaigns(w);
    }
    [row] = await stepRows(w, id, '&status=failed');
    expect(row).toMatchObject({ step_id: 'send', contact_id: ann, status: 'failed', failures: 5, error: 'Email not found.' });
    expect(await stepRows(w, id, '&status=pending')).toEqual([]);
    const report = await w.ok('GET', `/api/v1/campaigns/${id}/report`);
    expect(report.steps.find((s: any) => s.step_id === 'send')).toMatchObject({ failed: 1, errors: [{ error: 'Email not found.', count: 1 }] });
    expect((await passesOf(w, ann))[0]).toMatchObject({ status: 'active', current_step: 'send' });
    // Parked: time alone does not run it again.
    w.tick(DAY);
    await runCampaigns(w);
    expect(await count(w.t, 'SELECT count(*) AS n FROM campaign_steps WHERE id = ? AND failures = 5', [row.id])).toBe(1);

    // The API cannot bring an email id back (ids are never reused): put the row back as a restore would.
    const cols = Object.keys(saved);
    await w.t.client.execute({ sql: `INSERT INTO emails (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, args: cols.map((k) => saved[k] as any) });
    expect(await w.ok('POST', `/api/v1/campaigns/${id}/steps/${row.id}/retry`)).toEqual({ retried: 1 });
    await settleDeferred();
    [row] = await stepRows(w, id, '&step_id=send');
    expect(row).toMatchObject({ status: 'done', failures: 0, error: null });
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_sends WHERE email_id = ? AND contact_id = ? AND reason = ?', [e, ann, `campaign:${id}:send:1`])).toBe(1);
    expect((await passesOf(w, ann))[0]).toMatchObject({ status: 'completed' });
    expect((await w.ok('GET', `/api/v1/campaigns/${id}/report`)).steps.find((s: any) => s.step_id === 'send')).toMatchObject({ failed: 0, completed: 1, errors: [] });
    // Nothing failed any more: retrying it is a 404, retrying all retries none.
    expectError(await w.t.json('POST', `/api/v1/campaigns/${id}/steps/${row.id}/retry`), 404, 'NOT_FOUND');
    expect(await w.ok('POST', `/api/v1/campaigns/${id}/retry`)).toEqual({ retried: 0 });
  });

  it('POST /campaigns/{id}/retry re-queues every failed step of the campaign', async () => {
    const w = await world();
    const ids = [await contact(w, 'a@example.com'), await contact(w, 'b@example.com')];
    const e = await email(w, 'Later');
    const id = await running(
      w,
      {
        start: 'pause',
        steps: [
          { id: 'pause', type: 'wait', wait: { for: { minutes: 5 } }, next: 'send' },
          { id: 'send', type: 'action', action: { type: 'send_email', email_id: e }, next: null },
        ],
      },
      ids,
    );
    const saved = (await w.t.client.execute({ sql: 'SELECT * FROM emails WHERE id = ?', args: [e] })).rows[0]!;
    await w.ok('DELETE', `/api/v1/emails/${e}`);
    for (const wait of [5 * MIN, 30_000, 2 * MIN, 10 * MIN, HOUR]) {
      w.tick(wait);
      await runCampaigns(w);
    }
    expect(await stepRows(w, id, '&status=failed')).toHaveLength(2);
    const cols = Object.keys(saved);
    await w.t.client.execute({ sql: `INSERT INTO emails (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, args: cols.map((k) => saved[k] as any) });
    expect(await w.ok('POST', `/api/v1/campaigns/${id}/retry`)).toEqual({ retried: 2 });
    await settleDeferred();
    expect((await stepRows(w, id, '&step_id=send')).map((s) => s.status)).toEqual(['done', 'done']);
    expect(await count(w.t, 'SELECT count(*) AS n FROM email_sends WHERE email_id = ?', [e])).toBe(2);
  });
});

describe('scopes', () => {
  it('a read key reads campaigns but cannot write them; a write key can', async () => {
    const w = await world();
    const ann = await contact(w, 'ann@example.com');
    const id = await running(w, tagging('a', 'b'), [ann]);
    const read = { key: w.t.keys.read };
    for (const path of [`/api/v1/campaigns`, `/api/v1/campaigns/${id}`, `/api/v1/campaigns/${id}/report`, `/api/v1/campaigns/${id}/steps`, `/api/v1/contacts/${ann}/campaigns`]) {
      expect((await w.t.json('GET', path, undefined, read)).status, path).toBe(200);
    }
    const writes: [string, string, unknown?][] = [
      ['POST', '/api/v1/campaigns', { name: 'x', definition: tagging('a', 'b') }],
      ['PATCH', `/api/v1/campaigns/${id}`, { name: 'y' }],
      ['POST', `/api/v1/campaigns/${id}/publish`],
      ['POST', `/api/v1/campaigns/${id}/pause`],
      ['POST', `/api/v1/campaigns/${id}/archive`],
      ['POST', `/api/v1/campaigns/${id}/rotate-secret`],
      ['POST', `/api/v1/campaigns/${id}/contacts`, { contact_ids: [ann] }],
      ['DELETE', `/api/v1/campaigns/${id}/contacts/${ann}`],
      ['POST', `/api/v1/campaigns/${id}/retry`],
      ['DELETE', `/api/v1/campaigns/${id}`],
    ];
    for (const [method, path, body] of writes) expectError(await w.t.json(method, path, body, read), 403, 'FORBIDDEN');
    expect((await w.ok('GET', `/api/v1/campaigns/${id}`)).name).toBe('Campaign');
    expect((await w.ok('GET', `/api/v1/campaigns/${id}`)).status).toBe('active');
    expect((await w.t.json('PATCH', `/api/v1/campaigns/${id}`, { name: 'By writer' }, { key: w.t.keys.write })).status).toBe(200);
    expectError(await w.t.json('GET', '/api/v1/campaigns', undefined, { key: null }), 401, 'UNAUTHORIZED');
  });
});

describe('sites carry a time zone', () => {
  it('accepted as an IANA name (stored as the runtime spells it), refused otherwise with a 422 naming timezone, cleared with null', async () => {
    const w = await world();
    const site = await w.ok('POST', '/api/v1/sites', { name: 'Shop', timezone: 'europe/paris' }, 201);
    expect(site.timezone).toBe('Europe/Paris');
    expect((await w.ok('GET', `/api/v1/sites/${site.id}`)).timezone).toBe('Europe/Paris');
    for (const bad of ['Mars/Olympus_Mons', '+01:00', '', 'x'.repeat(65)]) {
      const r = await w.t.json('PATCH', `/api/v1/sites/${site.id}`, { timezone: bad });
      expectError(r, 422, 'VALIDATION_FAILED');
      expect(r.body.error.details.map((d: any) => d.field)).toEqual(['timezone']);
    }
    expectError(await w.t.json('POST', '/api/v1/sites', { name: 'Bad', timezone: 'Nowhere/City' }), 422, 'VALIDATION_FAILED');
    expect((await w.ok('PATCH', `/api/v1/sites/${site.id}`, { timezone: 'Asia/Tokyo' })).timezone).toBe('Asia/Tokyo');
    expect((await w.ok('PATCH', `/api/v1/sites/${site.id}`, { timezone: null })).timezone).toBeNull();
    expect((await w.ok('POST', '/api/v1/sites', { name: 'No zone' }, 201)).timezone).toBeNull();
  });
});

describe('waits in the contact\'s time zone', () => {
  it('a window wait ends at the next window in the contact\'s `timezone` field, else its site\'s time zone, else UTC', async () => {
    const w = await world(); // Wednesday 2026-11-25, 10:00 UTC
    await w.ok('POST', '/api/v1/fields', { key: 'timezone', label: 'Time zone', type: 'text' });
    const site = await makeSite(w.t, { timezone: 'America/New_York' });
    // Nina identifies on the New York site; Taro has his own zone (and visited the site too); Uma has neither.
    const nina = 'nina@example.com';
    expect((await track(w.t, { k: site.public_key, v: vid(1), e: [{ t: 'pv', u: 'https://shop.example.com/' }], id: { email: nina, sig: sign(site.secret, nina) } })).status).toBe(202);
    await runJob(w.t);
    const ninaId = (await w.ok('GET', `/api/v1/contacts?q=nina`)).data[0].id as number;
    const taro = (await w.ok('POST', '/api/v1/contacts', { email: 'taro@example.com', fields: { timezone: 'Asia/Tokyo' } })).id as number;
    const taroMail = 'taro@example.com';
    expect((await track(w.t, { k: site.public_key, v: vid(2), e: [{ t: 'pv', u: 'https://shop.example.com/' }], id: { email: taroMail, sig: sign(site.secret, taroMail) } })).status).toBe(202);
    const uma = await contact(w, 'uma@example.com');
    await runJob(w.t);
    const id = await running(
      w,
      { start: 'window', steps: [{ id: 'window', type: 'wait', wait: { window: { days: ['wed'], from: '09:00', to: '10:00' } }, next: null }] },
      [ninaId, taro, uma],
    );
    const due = Object.fromEntries((await stepRows(w, id)).map((s) => [s.contact_id, s.due_at]));
    expect(due).toEqual({
      [ninaId]: '2026-11-25T14:00:00.000Z', // 05:00 in New York: 09:00 there today
      [taro]: '2026-12-02T00:00:00.000Z', // 19:00 in Tokyo: next Wednesday 09:00 there
      [uma]: '2026-12-02T09:00:00.000Z', // 10:00 UTC, the window just closed: next Wednesday
    });
  });
});
