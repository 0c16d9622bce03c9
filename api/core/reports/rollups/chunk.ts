import type { InStatement } from '@libsql/client';
import type { Ctx } from '../../context';
import { EVENT } from '../../spine/event-types';
import { eventProps, type SpineEvent } from '../../spine/types';
import { classifyVisit, pagePath } from './classify';
import { campaignOfReason, DAILY, factsOf, idKey, METRIC, VISIT_DIMS } from './metrics';
import { DAY, HOUR } from '../query';

/** Visits end after 30 minutes without a page view. */
export const SESSION_GAP_MS = 30 * 60_000;

/**
 * The events a batch of statements may count: ids above `after` (an SQL expression read when the
 * batch commits: the reaction's committed cursor, or the rebuild's) up to `last`. Every counter
 * below is bounded by it, so two runners holding the same events count each once (see
 * spine/types.ts unseenAfter); an `after` that is NULL counts nothing.
 */
export interface Range {
  after: string;
  last: number;
}

// The checks of metrics.ts `Cond`, against the rows as they are when the batch commits. A send's
// first open (or click) by a person is the event at the send row's human_opened_at (or
// human_clicked_at), which email/tracking.ts writes in the same transaction; among events of that
// same millisecond, the lowest id. So the check is two index look-ups, whatever the contact's history.
const FIRST = (column: string, types: string) => `e.created_at = (SELECT s.${column} FROM email_sends s WHERE s.id = e.props ->> 'send_id')
      AND NOT EXISTS (SELECT 1 FROM events p WHERE p.contact_id IS e.contact_id AND p.type IN (${types}) AND p.created_at = e.created_at
        AND p.id < e.id AND p.props ->> 'send_id' = e.props ->> 'send_id' AND (p.props ->> 'machine') IS NOT 1)`;
const COND = `CASE j.value ->> 4
    WHEN 'f' THEN EXISTS (SELECT 1 FROM form_submissions s WHERE s.id = e.props ->> 'submission_id' AND s.contact_id IS NOT NULL)
    WHEN 'o' THEN ${FIRST('human_opened_at', `'${EVENT.email_opened}', '${EVENT.email_clicked}'`)}
    WHEN 'c' THEN ${FIRST('human_clicked_at', `'${EVENT.email_clicked}'`)}
    ELSE 1 END`;

/** The rollup hour of a time: its UTC hour, or its UTC day's first hour for a daily dim. */
const hourOf = (time: string, dim: string) => `CASE WHEN substr(${dim}, -${DAILY.length}) = '${DAILY}' THEN ${time} / ${DAY} * 24 ELSE ${time} / ${HOUR} END`;
// A session's entries, bounces and page views go to the total and to each of its properties
// (VISIT_DIMS: the session column, and the dim by hour and by day); a property it lacks, to none.
const DIMS = `(SELECT '' AS dim, '' AS col${Object.entries(VISIT_DIMS)
  .flatMap(([col, dim]) => [dim, dim + DAILY].map((d) => ` UNION ALL SELECT '${d}', '${col}'`))
  .join('')})`;
const visitKey = `CASE d.col WHEN '' THEN ''${Object.keys(VISIT_DIMS)
  .map((col) => ` WHEN '${col}' THEN s.${col}`)
  .join('')} END`;

// The session columns a visit counter is keyed by; sessions alike in them (and in site and start
// hour) add to the same counters, so they are summed as one row before the dims multiply them.
const SESSION_KEY = `s.site_id, s.started_at / ${HOUR} AS hour, ${Object.keys(VISIT_DIMS)
  .map((col) => `s.${col}`)
  .join(', ')}`;
const SESSION_KEY_COLS = Object.keys(VISIT_DIMS).length + 2;
const byKey = `GROUP BY ${Array.from({ length: SESSION_KEY_COLS }, (_, i) => i + 1).join(', ')}`;
// hourOf over such a row's start hour: a daily dim's day's first hour is the hour's, rounded
// down to a multiple of 24 (the same integer as the start time's day times 24).
const hourOfKey = (dim: string) => `CASE WHEN substr(${dim}, -${DAILY.length}) = '${DAILY}' THEN s.hour / 24 * 24 ELSE s.hour END`;

/** The start of session `s`'s previous session of its visitor, by start then id (NULL: none). */
const PREV_AT = (visitor: string, at: string, id: string) =>
  `SELECT p.started_at FROM sessions p WHERE p.visitor_id = ${visitor} AND p.started_at <= ${at}
    AND (p.started_at < ${at} OR p.id < ${id}) ORDER BY p.started_at DESC, p.id DESC LIMIT 1`;

/**
 * The statements that bring rollups and sessions up to date with a chunk of events, in id
 * order: the reaction's (spine/reactions/rollups.ts) and the rebuild's (rebuild.ts) alike.
 * What needs code (the URL path, the channel of a visit, which counters an event adds to) is
 * computed here and passed as JSON rows carrying the event id; the database joins them to the
 * events still there with those ids within the range, and does the rest in sets:
 *
 * 1. counters: one upsert adding to (metric, dim, hour, site, key);
 * 2. visits: a visitor's page view starts a session when its previous page view (same visitor,
 *    lower id) is more than 30 minutes older or there is none; the session's id is that view's,
 *    its entry page, channel and sources come from it, its country and device from the visitor
 *    row now, its contact from the event row now (attribution fills it later, as for events);
 *    each new session counts as an entry (total and by entry page, at the hour it started);
 * 3. then every page view of the range adds to the visitor's latest session started at or
 *    before it (page views, last time, last event id). A late view (older created_at than the
 *    view before it) extends the session it arrives in. Bounces (sessions of one view) are
 *    counted as the sessions' page views change, in the same transaction.
 * Page views without a visitor (consent mode, before consent) count as page views but make no session.
 */
export async function chunkStatements(ctx: Ctx, events: SpineEvent[], range: Range): Promise<InStatement[]> {
  const campaigns = await campaignsOfSends(ctx, events);
  const facts = events.flatMap((e) => factsOf(e, (send) => campaigns.get(send) ?? null));
  const views = events
    .filter((e) => e.type === EVENT.page_view && e.visitorId !== null)
    .map((e) => {
      const v = classifyVisit(e.url, e.referrer, eventProps(e));
      return [e.id, pagePath(e.url), v.channel, v.source, v.medium, v.campaign, v.referrer];
    });
  const inRange = `e.id > ${range.after} AND e.id <= ?`;
  // CROSS JOIN: the JSON rows lead and find their events by id (never a scan of events by type).
  const out: InStatement[] = [];
  if (facts.length) {
    out.push({
      sql: `INSERT INTO rollups (metric, dim, hour, site_id, key, value)
        SELECT j.value ->> 1, j.value ->> 2, ${hourOf('e.created_at', 'j.value ->> 2')}, coalesce(e.site_id, 0), j.value ->> 3, count(*)
        FROM json_each(?) j CROSS JOIN events e ON e.id = j.value ->> 0
        WHERE ${inRange} AND ${COND}
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (metric, dim, hour, site_id, key) DO UPDATE SET value = value + excluded.value`,
      args: [JSON.stringify(facts), range.last],
    });
  }
  if (views.length) {
    const json = JSON.stringify(views);
    const view = `json_each(?) j CROSS JOIN events e ON e.id = j.value ->> 0 AND e.type = '${EVENT.page_view}' AND e.visitor_id IS NOT NULL`;
    // Per session the range's page views go to: how many, the latest time and id.
    const touched = `(SELECT (SELECT max(s.id) FROM sessions s WHERE s.visitor_id = e.visitor_id AND s.id <= e.id) AS sid,
        count(*) AS n, max(e.created_at) AS at, max(e.id) AS last_id
      FROM ${view} WHERE ${inRange} GROUP BY 1) x`;
    out.push(
      {
        sql: `INSERT INTO sessions (id, site_id, visitor_id, contact_id, started_at, last_at, last_event_id, pageviews,
            entry_page, channel, source, medium, campaign, referrer, country, device, prev_at)
          SELECT e.id, coalesce(e.site_id, 0), e.visitor_id, e.contact_id, e.created_at, e.created_at, e.id, 0,
            j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6, v.country, v.device,
            (${PREV_AT('e.visitor_id', 'e.created_at', 'e.id')})
          FROM ${view} LEFT JOIN visitors v ON v.id = e.visitor_id
          WHERE ${inRange}
            AND coalesce((SELECT p.created_at FROM events p WHERE p.visitor_id = e.visitor_id AND p.id < e.id AND p.type = '${EVENT.page_view}'
              ORDER BY p.id DESC LIMIT 1) >= e.created_at - ${SESSION_GAP_MS}, 0) = 0
          ON CONFLICT (id) DO NOTHING`,
        args: [json, range.last],
      },
      // prev_at (schema/reports.ts): the insert took it from the sessions before the batch; this
      // corrects it where the batch started two sessions of a visitor, and sets it on the session
      // after each new one in its visitor's time order (a late view can start a session before
      // others). Only changed rows are written (prev_at is in the started_at indexes).
      {
        sql: `WITH t(id) AS (SELECT n.id FROM sessions n WHERE n.id > ${range.after} AND n.id <= ?
            UNION SELECT (SELECT t.id FROM sessions t WHERE t.visitor_id = n.visitor_id AND t.started_at >= n.started_at
                AND (t.started_at > n.started_at OR t.id > n.id) ORDER BY t.started_at, t.id LIMIT 1)
              FROM sessions n WHERE n.id > ${range.after} AND n.id <= ?),
          x(id, prev_at) AS (SELECT s.id, (${PREV_AT('s.visitor_id', 's.started_at', 's.id')}) FROM t JOIN sessions s ON s.id = t.id)
          UPDATE sessions SET prev_at = x.prev_at FROM x WHERE sessions.id = x.id AND sessions.prev_at IS NOT x.prev_at`,
        args: [range.last, range.last],
      },
      // The sessions this batch started (their ids, their entry views' ids, are in the range): entries.
      {
        sql: `INSERT INTO rollups (metric, dim, hour, site_id, key, value)
          SELECT '${METRIC.entries}', d.dim, ${hourOfKey('d.dim')}, s.site_id, ${visitKey}, sum(s.n)
          FROM (SELECT ${SESSION_KEY}, count(*) AS n FROM sessions s WHERE s.id > ${range.after} AND s.id <= ? ${byKey}) s
            CROSS JOIN ${DIMS} d
          WHERE ${visitKey} IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5
          ON CONFLICT (metric, dim, hour, site_id, key) DO UPDATE SET value = value + excluded.value`,
        args: [range.last],
      },
      // Before the page views are added: a session that had none (new) and gets one is a bounce;
      // one that had one and gets more is not any longer. And the page views of the sessions.
      // Summed first over sessions alike in their counters' keys (`changed`: whether any of them
      // changes its bounce, as a bounce counter is written only then), then per dim.
      {
        sql: `INSERT INTO rollups (metric, dim, hour, site_id, key, value)
          SELECT m.metric, d.dim, ${hourOfKey('d.dim')}, s.site_id, ${visitKey},
            sum(CASE m.metric WHEN '${METRIC.bounces}' THEN s.bounces ELSE s.n END)
          FROM (SELECT ${SESSION_KEY}, sum(x.n) AS n, sum((s.pageviews + x.n = 1) - (s.pageviews = 1)) AS bounces,
                max((s.pageviews + x.n = 1) <> (s.pageviews = 1)) AS changed
              FROM ${touched} JOIN sessions s ON s.id = x.sid ${byKey}) s
            CROSS JOIN ${DIMS} d
            CROSS JOIN (SELECT '${METRIC.bounces}' AS metric UNION ALL SELECT '${METRIC.visitPageviews}') m
          WHERE (m.metric = '${METRIC.visitPageviews}' OR s.changed) AND ${visitKey} IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5
          ON CONFLICT (metric, dim, hour, site_id, key) DO UPDATE SET value = value + excluded.value`,
        args: [json, range.last],
      },
      {
        sql: `UPDATE sessions SET pageviews = pageviews + x.n, last_at = max(sessions.last_at, x.at), last_event_id = max(sessions.last_event_id, x.last_id)
          FROM ${touched} WHERE sessions.id = x.sid`,
        args: [json, range.last],
      },
    );
  }
  return out;
}

/** The campaign of each email send in the chunk whose reason names one (reasons never change). */
async function campaignsOfSends(ctx: Ctx, events: SpineEvent[]): Promise<Map<string, string>> {
  const sends = new Set<string>();
  for (const e of events) {
    if (!e.type.startsWith('email_')) continue;
    const send = idKey(eventProps(e).send_id);
    if (send) sends.add(send);
  }
  if (!sends.size) return new Map();
  const r = await ctx.client.execute({
    sql: "SELECT id, reason FROM email_sends WHERE id IN (SELECT value FROM json_each(?)) AND reason LIKE 'campaign:%'",
    args: [JSON.stringify([...sends].map(Number))],
  });
  const out = new Map<string, string>();
  for (const row of r.rows) {
    const c = campaignOfReason(String(row.reason));
    if (c) out.set(String(row.id), c);
  }
  return out;
}
