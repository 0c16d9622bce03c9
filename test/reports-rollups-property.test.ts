// Rollups and sessions = a recomputation from the raw events (issue 12, item 6), as a property.
//
// fast-check builds random streams over two sites, six visitors (one with no visitor: consent mode),
// three contacts: page views at random times (some arriving late, with a created_at older than
// the views before them), custom events, form views / starts / submissions (with or without a
// contact, through a focus item or not, junk form ids), focus views / clicks / closes, email events
// of four sends (two of a campaign) including proxies' opens and scanners' clicks, identifications
// of visitors, merges of contacts and consent take-overs of anonymous page views; between them the
// spine runs with random chunk sizes (and time passes: 2 minutes an op, waits of 25 to 600 minutes), sometimes as two interleaved runners, and always as two at
// the end. Then rollups and sessions must equal (a) the reference below, written here from the raw
// events table (the definitions in core/reports/rollups/metrics.ts and chunk.ts; classifyVisit and
// pagePath, tested by hand in reports-traffic.test.ts, are its only borrowings), and (b) what the
// rebuild makes of the same log, also when it runs while new events arrive and the reaction runs.
//
// REPORTS_PROPERTY_RUNS / REPORTS_PROPERTY_SEED change the runs and the seed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Client } from '@libsql/client';
import { makeApp, type TestApp } from './helpers';
import { runReactions } from '../api/core/spine/run';
import { rebuildRollups } from '../api/core/reports/rollups/rebuild';
import { uncountAdoptedView } from '../api/core/reports/rollups/adopt';
import { classifyVisit, pagePath } from '../api/core/reports/rollups/classify';
import { visitStats } from '../api/core/reports/visits';

const HOUR = 3_600_000;
const GAP = 30 * 60_000;
const T0 = Date.parse('2026-03-28T20:00:00Z');
const VISITORS = 6; // visitor i (1–6) is on site (i % 2) + 1
const CONTACTS = 3;
const SENDS = 4; // send i: email (i % 2) + 1, contact ((i - 1) % 3) + 1; sends 1 and 2 of campaign 7

const PATHS = ['/', '/pricing', '/blog/a', '/about'];
const UTM = ['', '?utm_source=google&utm_medium=cpc', '?utm_source=nl&utm_medium=email&utm_campaign=june'];
const REFS = [null, 'https://www.google.com/', 'https://t.co/x', 'https://news.example.org/p', 'SELF'];
const FORM_IDS: unknown[] = [1, 2, '2', 'x', -1];
const FOCUS_IDS: unknown[] = [1, 2, '1', 'junk'];
const VARIANTS = ['a', 'b', null];
const EMAIL_TYPES = ['email_sent', 'email_delivered', 'email_bounced', 'email_complained', 'email_opened', 'email_clicked', 'email_unsubscribed'];

type Op =
  | { k: 'pv'; v: number; site: number; path: number; utm: number; ref: number; late: number }
  | { k: 'custom'; v: number; name: string | null }
  | { k: 'form'; type: 'form_view' | 'form_start' | 'form_submit'; v: number; form: number; contact: boolean; focus: number | null; variant: number }
  | { k: 'focus'; type: 'focus_view' | 'focus_click' | 'focus_close'; v: number; focus: number; variant: number }
  | { k: 'email'; type: number; send: number; machine: boolean }
  | { k: 'identify'; v: number; c: number }
  | { k: 'merge'; from: number; into: number }
  | { k: 'adopt'; v: number }
  | { k: 'run'; chunk: number; second: number | null }
  | { k: 'wait'; min: number };

const visitor = fc.integer({ min: 0, max: VISITORS }); // 0: no visitor
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('pv' as const),
      v: visitor,
      site: fc.integer({ min: 1, max: 2 }),
      path: fc.nat(PATHS.length - 1),
      utm: fc.nat(UTM.length - 1),
      ref: fc.nat(REFS.length - 1),
      // Minutes it arrives late (its created_at is that much older than now), one time in five.
      late: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 180 }) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('custom' as const), v: visitor, name: fc.constantFrom('signup', 'play', null) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('form' as const),
      type: fc.constantFrom('form_view' as const, 'form_start' as const, 'form_submit' as const),
      v: visitor,
      form: fc.nat(FORM_IDS.length - 1),
      contact: fc.boolean(),
      focus: fc.option(fc.nat(FOCUS_IDS.length - 1)),
      variant: fc.nat(VARIANTS.length - 1),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('focus' as const), type: fc.constantFrom('focus_view' as const, 'focus_click' as const, 'focus_close' as const), v: visitor, focus: fc.nat(FOCUS_IDS.length - 1), variant: fc.nat(VARIANTS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('email' as const), type: fc.nat(EMAIL_TYPES.length - 1), send: fc.integer({ min: 1, max: SENDS }), machine: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('identify' as const), v: fc.integer({ min: 1, max: VISITORS }), c: fc.integer({ min: 1, max: CONTACTS }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('merge' as const), from: fc.integer({ min: 1, max: CONTACTS }), into: fc.integer({ min: 1, max: CONTACTS }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('adopt' as const), v: fc.integer({ min: 1, max: VISITORS }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('run' as const), chunk: fc.integer({ min: 1, max: 9 }), second: fc.option(fc.integer({ min: 1, max: 9 })) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('wait' as const), min: fc.constantFrom(25, 30, 31, 60, 600) }) },
);

const siteOf = (v: number) => (v % 2) + 1;
const host = (site: number) => (site === 1 ? 'https://shop.example.com' : 'https://blog.example.com');

/** The world the ops write to, as the writers (tracker, forms, email, identity, merge) would. */
async function world() {
  const t = await makeApp({ memory: true });
  const c = t.client;
  for (const s of [1, 2]) {
    await c.execute({ sql: 'INSERT INTO sites (id, name, public_key, secret, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)', args: [s, `s${s}`, `pk_site${s}xxxxxxxx`, 'secret'] });
  }
  for (let v = 1; v <= VISITORS; v++) {
    await c.execute({
      sql: 'INSERT INTO visitors (id, site_id, uid, first_seen_at, last_seen_at, country, device) VALUES (?, ?, ?, 0, 0, ?, ?)',
      args: [v, siteOf(v), `visitor-${v}`, ['DE', 'FR', null][v % 3]!, ['desktop', 'mobile'][v % 2]!],
    });
  }
  for (let i = 1; i <= CONTACTS; i++) {
    await c.execute({ sql: 'INSERT INTO contacts (id, email, email_normalized, created_at, updated_at) VALUES (?, ?, ?, 0, 0)', args: [i, `c${i}@example.com`, `c${i}@example.com`] });
  }
  for (let s = 1; s <= SENDS; s++) {
    await c.execute({
      sql: "INSERT INTO email_sends (id, email_id, contact_id, to_email, reason, marketing, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 'sent', 0, 0)",
      args: [s, (s % 2) + 1, ((s - 1) % CONTACTS) + 1, `s${s}@example.com`, s <= 2 ? `campaign:7:step:${s}` : 'broadcast:1'],
    });
  }
  return t;
}

async function apply(t: TestApp, ops: Op[], clock: { now: number }, alive: Set<number>) {
  const c = t.client;
  const insert = (e: { site?: number | null; v?: number | null; contact?: number | null; type: string; name?: string | null; url?: string | null; ref?: string | null; props?: unknown; at?: number }) =>
    c.execute({
      sql: `INSERT INTO events (site_id, visitor_id, contact_id, type, name, url, referrer, props, created_at)
        VALUES (?, ?, coalesce(?, (SELECT contact_id FROM visitors WHERE id = ?)), ?, ?, ?, ?, ?, ?)`,
      args: [e.site ?? null, e.v ?? null, e.contact ?? null, e.v ?? null, e.type, e.name ?? null, e.url ?? null, e.ref ?? null, e.props === undefined ? null : JSON.stringify(e.props), e.at ?? clock.now],
    });
  for (const o of ops) {
    clock.now += 2 * 60_000;
    const v = 'v' in o && o.v ? o.v : null;
    switch (o.k) {
      case 'pv': {
        const site = v ? siteOf(v) : o.site;
        const url = `${host(site)}${PATHS[o.path]}${UTM[o.utm]}`;
        const ref = REFS[o.ref] === 'SELF' ? `${host(site)}/` : REFS[o.ref]!;
        const props = Object.fromEntries(new URL(url).searchParams);
        await insert({ site, v, type: 'page_view', url, ref, props: Object.keys(props).length ? props : undefined, at: clock.now - o.late * 60_000 });
        break;
      }
      case 'custom':
        await insert({ site: v ? siteOf(v) : 1, v, type: 'custom', name: o.name });
        break;
      case 'form': {
        const form = FORM_IDS[o.form];
        const focus = o.focus === null ? {} : { focus_id: FOCUS_IDS[o.focus], focus_variant: VARIANTS[o.variant] };
        if (o.type !== 'form_submit') {
          await insert({ site: v ? siteOf(v) : 1, v, type: o.type, props: { form_id: form } });
          break;
        }
        // A submission names the visitor's contact, or (an email typed in) some contact, or nobody.
        const known = v ? (await c.execute({ sql: 'SELECT contact_id FROM visitors WHERE id = ?', args: [v] })).rows[0]!.contact_id : null;
        const who = known !== null && known !== undefined ? Number(known) : o.contact ? [...alive][0]! : null;
        const s = await c.execute({
          sql: "INSERT INTO form_submissions (form_id, contact_id, visitor_id, \"values\", created_at) VALUES (?, ?, ?, '{}', ?) RETURNING id",
          args: [typeof form === 'number' && form > 0 ? form : 1, who, v, clock.now],
        });
        await insert({ site: v ? siteOf(v) : 1, v, contact: who, type: 'form_submit', props: { form_id: form, submission_id: Number(s.rows[0]!.id), ...focus } });
        break;
      }
      case 'focus':
        await insert({ site: v ? siteOf(v) : 2, v, type: o.type, props: { focus_id: FOCUS_IDS[o.focus], variant: VARIANTS[o.variant] } });
        break;
      case 'email': {
        const type = EMAIL_TYPES[o.type]!;
        const send = (await c.execute({ sql: 'SELECT email_id, contact_id FROM email_sends WHERE id = ?', args: [o.send] })).rows[0]!;
        const human = type === 'email_opened' || type === 'email_clicked';
        await insert({ contact: Number(send.contact_id), type, props: { email_id: Number(send.email_id), send_id: o.send, ...(human && { machine: o.machine }) } });
        // As email/tracking.ts does in the same transaction: a person's first open (a click is one too) and first click.
        if (human && !o.machine) {
          const click = type === 'email_clicked' ? ', human_clicked_at = coalesce(human_clicked_at, ?1)' : '';
          await c.execute({ sql: `UPDATE email_sends SET human_opened_at = coalesce(human_opened_at, ?1)${click} WHERE id = ?2`, args: [clock.now, o.send] });
        }
        break;
      }
      case 'identify':
        if (!alive.has(o.c)) break;
        await c.batch(
          [
            { sql: 'UPDATE visitors SET contact_id = ? WHERE id = ?', args: [o.c, o.v] },
            { sql: "INSERT INTO events (site_id, visitor_id, contact_id, type, created_at) VALUES (?, ?, ?, 'identified', ?)", args: [siteOf(o.v), o.v, o.c, clock.now] },
          ],
          'write',
        );
        break;
      case 'merge': {
        if (o.from === o.into || !alive.has(o.from) || !alive.has(o.into)) break;
        alive.delete(o.from);
        const move = (table: string) => ({ sql: `UPDATE ${table} SET contact_id = ? WHERE contact_id = ?`, args: [o.into, o.from] });
        await c.batch(
          [
            ...['events', 'sessions', 'visitors', 'form_submissions', 'email_sends'].map(move),
            { sql: 'DELETE FROM contacts WHERE id = ?', args: [o.from] },
            { sql: "INSERT INTO events (contact_id, type, props, created_at) VALUES (?, 'merged', ?, ?)", args: [o.into, JSON.stringify({ merged_id: o.from }), clock.now] },
          ],
          'write',
        );
        break;
      }
      case 'adopt': {
        // Consent given: the site's latest anonymous view becomes this visitor's, at a new id (tracking/ingest.ts).
        const anon = (await c.execute({ sql: "SELECT id, url FROM events WHERE type = 'page_view' AND visitor_id IS NULL AND site_id = ? ORDER BY id DESC LIMIT 1", args: [siteOf(o.v)] })).rows[0];
        if (!anon) break;
        await c.batch(
          [
            uncountAdoptedView({ sql: 'SELECT ?', args: [Number(anon.id)] }, String(anon.url)),
            {
              sql: 'UPDATE events SET id = (SELECT max(id) + 1 FROM events), visitor_id = ?, contact_id = (SELECT contact_id FROM visitors WHERE id = ?) WHERE id = ?',
              args: [o.v, o.v, Number(anon.id)],
            },
          ],
          'write',
        );
        break;
      }
      case 'wait':
        clock.now += o.min * 60_000;
        break;
      case 'run':
        if (o.second === null) await runReactions(t.ctx, { chunk: o.chunk, maxChunks: 3 });
        else await Promise.all([runReactions(t.ctx, { chunk: o.chunk, maxChunks: 2 }), runReactions(t.ctx, { chunk: o.second, maxChunks: 4 })]);
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The reference: rollups and sessions from the events table as it is, by the definitions.

type Row = Record<string, unknown>;
const idOf = (x: unknown): string | null => {
  if (typeof x === 'number') return Number.isSafeInteger(x) && x > 0 ? String(x) : null;
  if (typeof x === 'string' && /^[1-9][0-9]*$/.test(x)) return String(Number(x));
  return null;
};
const variantOf = (x: unknown) => (x === null || x === undefined ? 'none' : String(x).slice(0, 20));

async function reference(c: Client) {
  const events = (await c.execute('SELECT * FROM events ORDER BY id')).rows;
  const subs = new Map((await c.execute('SELECT id, contact_id FROM form_submissions')).rows.map((r) => [Number(r.id), r.contact_id]));
  const reasons = new Map((await c.execute('SELECT id, reason FROM email_sends')).rows.map((r) => [String(r.id), String(r.reason)]));
  const visitors = new Map((await c.execute('SELECT id, country, device FROM visitors')).rows.map((r) => [Number(r.id), r]));
  const counts = new Map<string, number>();
  const add = (metric: string, dim: string, at: number, site: unknown, key: string, n = 1) => {
    // Rows of a daily dim sit at their UTC day's first hour.
    const hour = dim.endsWith(':day') ? Math.floor(at / (24 * HOUR)) * 24 : Math.floor(at / HOUR);
    const k = JSON.stringify([metric, dim, hour, site === null ? 0 : Number(site), key]);
    counts.set(k, (counts.get(k) ?? 0) + n);
  };
  const count = (e: Row, metric: string, dim: string, key: string) => add(metric, dim, Number(e.created_at), e.site_id, key);
  const opened = new Set<string>(); // sends opened (or clicked) by a person so far
  const clicked = new Set<string>();
  for (const e of events) {
    const p = (e.props ? JSON.parse(String(e.props)) : {}) as Record<string, unknown>;
    const type = String(e.type);
    if (type === 'page_view') {
      count(e, 'pageviews', '', '');
      const path = pagePath(e.url === null ? null : String(e.url));
      if (path !== null) count(e, 'pageviews', 'page', path), count(e, 'pageviews', 'page:day', path);
    } else if (type === 'custom') {
      count(e, 'events', '', '');
      if (e.name) count(e, 'events', 'name', String(e.name));
    } else if (type === 'form_view' || type === 'form_start' || type === 'form_submit') {
      const form = idOf(p.form_id);
      const metric = { form_view: 'form_views', form_start: 'form_starts', form_submit: 'form_submissions' }[type];
      if (form) count(e, metric, 'form', form);
      if (type === 'form_submit') {
        const who = subs.get(Number(p.submission_id));
        if (form && who !== null && who !== undefined) count(e, 'form_contacts', 'form', form);
        const focus = idOf(p.focus_id);
        if (focus) count(e, 'focus_submissions', 'focus', `${focus}:${variantOf(p.focus_variant ?? p.variant)}`);
      }
    } else if (type.startsWith('focus_')) {
      const focus = idOf(p.focus_id);
      const metric = { focus_view: 'focus_views', focus_click: 'focus_clicks', focus_close: 'focus_closes' }[type]!;
      if (focus) count(e, metric, 'focus', `${focus}:${variantOf(p.focus_variant ?? p.variant)}`);
    } else if (type.startsWith('email_')) {
      const human = type === 'email_opened' || type === 'email_clicked';
      if (human && p.machine === true) continue;
      const send = String(p.send_id);
      const campaign = /^campaign:(\d+):/.exec(reasons.get(send) ?? '')?.[1];
      const both = (metric: string) => {
        count(e, metric, 'email', String(p.email_id));
        if (campaign) count(e, metric, 'campaign', campaign);
      };
      both(type);
      if (human && !opened.has(send)) opened.add(send), both('email_unique_opened');
      if (type === 'email_clicked' && !clicked.has(send)) clicked.add(send), both('email_unique_clicked');
    }
  }
  // Entries and bounces (visits of one view), by the visits below, at the hour each started.
  // Entries, bounces and their page views also by each property of the visit, by hour and by day.
  const finish = () => {
    const props = { entry_page: 'page', channel: 'channel', source: 'source', medium: 'medium', campaign: 'campaign', referrer: 'referrer', country: 'country', device: 'device' };
    for (const v of sessions) {
      const metrics: [string, number][] = [['entries', 1], ['visit_pageviews', Number(v.pageviews)]];
      if (v.pageviews === 1) metrics.push(['bounces', 1]);
      for (const [m, n] of metrics) {
        add(m, '', Number(v.started_at), v.site_id, '', n);
        for (const [col, dim] of Object.entries(props)) {
          if (v[col] !== null) add(m, dim, Number(v.started_at), v.site_id, String(v[col]), n), add(m, `${dim}:day`, Number(v.started_at), v.site_id, String(v[col]), n);
        }
      }
    }
    return [...counts].map(([k, value]) => {
      const [metric, dim, hour, site_id, key] = JSON.parse(k);
      return { metric, dim, hour, site_id, key, value };
    });
  };

  // Visits: a visitor's views in id order; a view starts one when the view before it is more than 30 minutes older.
  const sessions: Row[] = [];
  const current = new Map<number, { row: Row; prevAt: number }>();
  for (const e of events) {
    if (e.type !== 'page_view' || e.visitor_id === null) continue;
    const v = Number(e.visitor_id);
    const at = Number(e.created_at);
    const cur = current.get(v);
    if (!cur || cur.prevAt < at - GAP) {
      const k = classifyVisit(e.url === null ? null : String(e.url), e.referrer === null ? null : String(e.referrer), e.props ? JSON.parse(String(e.props)) : {});
      const row: Row = {
        id: Number(e.id),
        site_id: e.site_id === null ? 0 : Number(e.site_id),
        visitor_id: v,
        contact_id: e.contact_id === null ? null : Number(e.contact_id),
        started_at: at,
        last_at: at,
        last_event_id: Number(e.id),
        pageviews: 1,
        entry_page: pagePath(e.url === null ? null : String(e.url)),
        channel: k.channel,
        source: k.source,
        medium: k.medium,
        campaign: k.campaign,
        referrer: k.referrer,
        country: visitors.get(v)!.country,
        device: visitors.get(v)!.device,
      };
      sessions.push(row);
      current.set(v, { row, prevAt: at });
    } else {
      cur.row.pageviews = Number(cur.row.pageviews) + 1;
      cur.row.last_at = Math.max(Number(cur.row.last_at), at);
      cur.row.last_event_id = Number(e.id);
      cur.prevAt = at;
    }
  }
  // prev_at: the start of the visitor's session before, in order of start then id.
  const byVisitor = new Map<number, Row[]>();
  for (const r of sessions) byVisitor.set(Number(r.visitor_id), [...(byVisitor.get(Number(r.visitor_id)) ?? []), r]);
  for (const rs of byVisitor.values()) {
    rs.sort((a, b) => Number(a.started_at) - Number(b.started_at) || Number(a.id) - Number(b.id));
    rs.forEach((r, i) => (r.prev_at = i === 0 ? null : Number(rs[i - 1]!.started_at)));
  }
  return { rollups: sortRollups(finish()), sessions: sessions.sort((a, b) => Number(a.id) - Number(b.id)) };
}

const sortRollups = (rs: Row[]) => rs.map((r) => ({ ...r })).sort((a, b) => (JSON.stringify([a.metric, a.dim, a.hour, a.site_id, a.key]) < JSON.stringify([b.metric, b.dim, b.hour, b.site_id, b.key]) ? -1 : 1));

async function actual(c: Client) {
  const rollups = (await c.execute('SELECT metric, dim, hour, site_id, key, value FROM rollups WHERE value <> 0')).rows.map((r) => ({ ...r }));
  const sessions = (await c.execute('SELECT * FROM sessions ORDER BY id')).rows.map((r) => ({ ...r }));
  return { rollups: sortRollups(rollups), sessions };
}

const drain = async (t: TestApp, chunks: [number, number]) => {
  // Two runners over what is left, interleaved, then one to make sure nothing is.
  await Promise.all([runReactions(t.ctx, { chunk: chunks[0], maxChunks: 1000 }), runReactions(t.ctx, { chunk: chunks[1], maxChunks: 1000 })]);
  await runReactions(t.ctx, { maxChunks: 1000 });
};

// The traffic reports' visitors (counted through prev_at) = distinct visitors with a session
// starting in each bucket and in the whole period, for buckets of 20 minutes to 5 hours.
async function expectDistinctVisitors(t: TestApp) {
  for (const minutes of [20, 45, 300]) {
    const bs = Array.from({ length: 12 }, (_, i) => ({ start: T0 + i * minutes * 60_000, end: T0 + (i + 1) * minutes * 60_000 }));
    const p = { from: bs[0]!.start, to: bs.at(-1)!.end };
    const got = await visitStats(t.ctx, p, { sql: '', args: [], utm: false }, { buckets: bs });
    const distinct = async (a: number, b: number) =>
      Number((await t.client.execute({ sql: 'SELECT count(DISTINCT visitor_id) AS n FROM sessions WHERE started_at >= ? AND started_at < ?', args: [a, b] })).rows[0]!.n);
    expect(got.total.visitors).toBe(await distinct(p.from, p.to));
    for (const [i, b] of bs.entries()) expect(got.groups.find((g) => g.key === String(i))?.visitors ?? 0).toBe(await distinct(b.start, b.end));
  }
  // The breakdown (rollups, less repeat visits) = the visits grouped and counted directly.
  const from = T0 + 2 * HOUR;
  const to = T0 + 40 * HOUR;
  for (const by of ['entry_page', 'channel', 'source', 'medium', 'campaign', 'referrer', 'country', 'device']) {
    const got = await t.json('GET', `/api/v1/reports/traffic-breakdown?by=${by}&limit=1000&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
    expect(got.status).toBe(200);
    const want = await t.client.execute({
      sql: `SELECT ${by} AS key, count(DISTINCT visitor_id) AS visitors, count(*) AS sessions, sum(pageviews) AS pageviews
        FROM sessions WHERE started_at >= ? AND started_at < ? GROUP BY 1 ORDER BY sessions DESC, key`,
      args: [from, to],
    });
    expect(got.body.rows.map((r: Row) => ({ key: r.key, visitors: r.visitors, sessions: r.sessions, pageviews: r.pageviews }))).toEqual(
      want.rows.map((r) => ({ key: r.key, visitors: Number(r.visitors), sessions: Number(r.sessions), pageviews: Number(r.pageviews) })),
    );
    const all = (await t.client.execute({
      sql: 'SELECT count(DISTINCT visitor_id) AS visitors, count(*) AS sessions, coalesce(sum(pageviews), 0) AS pageviews FROM sessions WHERE started_at >= ? AND started_at < ?',
      args: [from, to],
    })).rows[0]!;
    expect(got.body.totals).toMatchObject({ visitors: Number(all.visitors), sessions: Number(all.sessions), pageviews: Number(all.pageviews) });
  }
}

describe('rollups and sessions = a recomputation from the events', () => {
  it('for random streams, chunkings and overlapping runners; and so does the rebuild, also while events arrive', { timeout: 120_000 }, async () => {
    const chunk = fc.integer({ min: 1, max: 12 });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 150, size: 'large' }), fc.array(op, { maxLength: 40, size: 'medium' }), chunk, chunk, chunk, async (ops, during, c1, c2, rc) => {
        const t = await world();
        const clock = { now: T0 };
        const alive = new Set(Array.from({ length: CONTACTS }, (_, i) => i + 1));
        await apply(t, ops, clock, alive);
        await drain(t, [c1, c2]);
        const ref = await reference(t.client);
        expect(await actual(t.client)).toEqual(ref);
        await expectDistinctVisitors(t);

        // (b) The rebuild makes the same of the same log.
        const rebuilt = await rebuildRollups(t.ctx, { chunk: rc });
        expect(rebuilt.done).toBe(true);
        expect(await actual(t.client)).toEqual(ref);

        // And while more events arrive and the reaction runs, nothing is counted twice or missed.
        // Two rebuild requests at once (one starts it, the other resumes it), as the reaction runs.
        await Promise.all([rebuildRollups(t.ctx, { chunk: rc }), rebuildRollups(t.ctx, { chunk: c1 }), apply(t, during, clock, alive)]);
        await rebuildRollups(t.ctx, { resumeOnly: true });
        await drain(t, [c2, c1]);
        expect(await actual(t.client)).toEqual(await reference(t.client));
      }),
      { numRuns: Number(process.env.REPORTS_PROPERTY_RUNS ?? 40), seed: Number(process.env.REPORTS_PROPERTY_SEED ?? 20261126), endOnFailure: true },
    );
  });
});

/** The client, with `before` awaited ahead of each call of `method` (its statements as the argument). */
function intercept(client: Client, method: 'batch' | 'execute', before: (stmts: unknown[]) => Promise<void>): Client {
  return new Proxy(client, {
    get(target, prop) {
      const f = Reflect.get(target, prop, target);
      if (prop !== method) return typeof f === 'function' ? f.bind(target) : f;
      return async (...args: unknown[]) => {
        await before(Array.isArray(args[0]) ? args[0] : [args[0]]);
        return (f as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('the rebuild hands back to the reaction without losing or doubling events', () => {
  it('when the reaction passed over new events after the rebuild read its last chunk', async () => {
    const t = await world();
    const clock = { now: T0 };
    const alive = new Set([1, 2, 3]);
    const pv = (v: number): Op => ({ k: 'pv', v, site: 1, path: 0, utm: 0, ref: 0, late: 0 });
    await apply(t, [pv(1), pv(2), pv(1)], clock, alive);
    await runReactions(t.ctx);
    // The rebuild's client: the first time it finds nothing more to read, a view arrives and the
    // (held-off) reaction runs over it before the rebuild tries to hand over.
    let injected = false;
    const client = new Proxy(t.client, {
      get(target, prop) {
        const f = Reflect.get(target, prop, target);
        if (prop !== 'execute') return typeof f === 'function' ? f.bind(target) : f;
        return async (...args: Parameters<Client['execute']>) => {
          const r = await target.execute(...args);
          const stmt = args[0] as string | { sql: string };
          const sql = typeof stmt === 'string' ? stmt : stmt.sql;
          if (!injected && sql.startsWith('SELECT id, type') && r.rows.length === 0) {
            injected = true;
            await apply(t, [pv(3)], clock, alive);
            await runReactions(t.ctx);
          }
          return r;
        };
      },
    });
    const done = await rebuildRollups({ ...t.ctx, client }, { chunk: 2 });
    expect(injected).toBe(true);
    expect(done).toMatchObject({ done: true, started: true, events: 4 });
    await runReactions(t.ctx);
    expect(await actual(t.client)).toEqual(await reference(t.client));
    expect((await t.client.execute("SELECT sum(value) AS n FROM rollups WHERE metric = 'pageviews' AND dim = ''")).rows[0]!.n).toBe(4);
  });

  it('when a runner that read events before the rebuild began commits while it runs', async () => {
    const t = await world();
    const clock = { now: T0 };
    const alive = new Set([1, 2, 3]);
    await apply(t, [{ k: 'pv', v: 1, site: 1, path: 0, utm: 0, ref: 0, late: 0 }, { k: 'pv', v: 2, site: 1, path: 1, utm: 0, ref: 0, late: 0 }], clock, alive);
    const hasRollups = (stmts: unknown[]) => stmts.some((x) => JSON.stringify(x).includes('INSERT INTO rollups'));
    // A runner reads the two views and holds its rollups commit until the rebuild has begun.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let parked = false;
    const held = intercept(t.client, 'batch', async (stmts) => {
      if (!parked && hasRollups(stmts)) (parked = true), await gate;
    });
    const runner = runReactions({ ...t.ctx, client: held });
    while (!parked) await new Promise((r) => setTimeout(r, 1));
    // The rebuild, after its first chunk, lets the runner commit, then goes on.
    let chunks = 0;
    const rebuilding = intercept(t.client, 'batch', async (stmts) => {
      if (hasRollups(stmts) && ++chunks === 2) release(), await runner;
    });
    const rebuilt = await rebuildRollups({ ...t.ctx, client: rebuilding }, { chunk: 1 });
    expect(rebuilt).toMatchObject({ done: true, started: true, events: 2 });
    await runReactions(t.ctx);
    expect(await actual(t.client)).toEqual(await reference(t.client));
    expect((await t.client.execute("SELECT sum(value) AS n FROM rollups WHERE metric = 'pageviews' AND dim = ''")).rows[0]!.n).toBe(2);
  });
});
