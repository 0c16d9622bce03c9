import { EVENT } from '../../spine/event-types';
import { eventProps, type SpineEvent } from '../../spine/types';
import { variantKey } from '../../focus/stats';
import { pagePath } from './classify';

/**
 * What the rollups table counts, per UTC hour and site (0: events of no site, e.g. email):
 *
 *   metric              dim        key                    one per
 *   pageviews           '' | page  '' | URL path          page_view (with or without a visitor)
 *   entries             '' | page  '' | entry path        session, at the hour it started
 *   bounces             '' | page  '' | entry path        session of one page view, at the hour it started
 *                                                        (+1 when it starts with one, -1 when a second comes)
 *   visit_pageviews     '' | page  '' | entry path        a session's page views, at the hour it started
 *   entries, bounces,   a visit dim  its value             the same, by one property of the session (VISIT_DIMS:
 *   visit_pageviews                                      channel, source, …); a session without it adds to none
 *   events              '' | name  '' | event name        custom event
 *   form_views          form       form id                form_view
 *   form_starts         form       form id                form_start
 *   form_submissions    form       form id                form_submit
 *   form_contacts       form       form id                form_submit whose submission named a contact
 *   focus_views         focus      <id>:<variant>         focus_view
 *   focus_clicks        focus      <id>:<variant>         focus_click
 *   focus_closes        focus      <id>:<variant>         focus_close
 *   focus_submissions   focus      <id>:<variant>         form_submit with a focus_id
 *   email_sent … email_unsubscribed   email | campaign   email id | campaign id   email_* event
 *   email_opened / email_clicked                         a person's open / click (props.machine not true)
 *   email_unique_opened                                  a send's first open or click by a person
 *   email_unique_clicked                                 a send's first click by a person
 *                                                        (the send row's human_opened_at / human_clicked_at
 *                                                        says which event that is)
 *
 * The page dim and the visit dims are kept per UTC day too (dim `page:day`, hour = the day's first hour): a long
 * period reads its whole UTC days from those rows and only its edges from the hourly ones, so a
 * site with many pages costs a report a row per page and day, not per page and hour.
 * The campaign dim counts the email events of sends whose reason is `campaign:<id>:…`.
 * Focus ids and form ids are positive whole numbers (a string of digits counts as that number);
 * anything else is not counted under a form or item. A variant is keyed as the focus stats key it.
 */
export const METRIC = {
  pageviews: 'pageviews',
  entries: 'entries',
  bounces: 'bounces',
  visitPageviews: 'visit_pageviews',
  events: 'events',
  formViews: 'form_views',
  formStarts: 'form_starts',
  formSubmissions: 'form_submissions',
  formContacts: 'form_contacts',
  focusViews: 'focus_views',
  focusClicks: 'focus_clicks',
  focusCloses: 'focus_closes',
  focusSubmissions: 'focus_submissions',
  emailUniqueOpened: 'email_unique_opened',
  emailUniqueClicked: 'email_unique_clicked',
} as const;

/** Email event types, each counted under a metric of the same name. */
export const EMAIL_METRICS = [
  EVENT.email_sent,
  EVENT.email_delivered,
  EVENT.email_bounced,
  EVENT.email_complained,
  EVENT.email_opened,
  EVENT.email_clicked,
  EVENT.email_unsubscribed,
] as const;

/**
 * A condition the database checks when the counter is applied (rollups/chunk.ts), because it
 * needs other rows: f = the form submission named a contact; o = the send's first open or click
 * by a person (at its human_opened_at); c = the send's first click by a person (human_clicked_at).
 */
export type Cond = 'f' | 'o' | 'c' | null;

/** One count: [event id, metric, dim, key, condition]. */
export type Fact = [number, string, string, string, Cond];

/** The event types that count in rollups or sessions; the rest only move the cursor. */
export const COUNTED_TYPES: readonly string[] = [
  EVENT.page_view,
  EVENT.custom,
  EVENT.form_view,
  EVENT.form_start,
  EVENT.form_submit,
  EVENT.focus_view,
  EVENT.focus_click,
  EVENT.focus_close,
  ...EMAIL_METRICS,
];

const MAX_KEY = 200;

/** The suffix of a dim kept per UTC day (see above). */
export const DAILY = ':day';
export const PAGE = 'page';

/**
 * The properties of a visit the traffic breakdown groups by, each a sessions column, and the
 * rollup dim its visits are counted under (the entry page's is the page dim).
 */
export const VISIT_DIMS = {
  entry_page: PAGE,
  channel: 'channel',
  source: 'source',
  medium: 'medium',
  campaign: 'campaign',
  referrer: 'referrer',
  country: 'country',
  device: 'device',
} as const;
export type VisitDim = keyof typeof VISIT_DIMS;

/** A positive whole number given as a number or a string of digits, as text; else null. */
export function idKey(v: unknown): string | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? String(n) : null;
}

const FOCUS: Record<string, string> = {
  [EVENT.focus_view]: METRIC.focusViews,
  [EVENT.focus_click]: METRIC.focusClicks,
  [EVENT.focus_close]: METRIC.focusCloses,
};

const FORM: Record<string, string> = { [EVENT.form_view]: METRIC.formViews, [EVENT.form_start]: METRIC.formStarts };

/** Whether an open or click was a privacy proxy's or link scanner's (core/email/machine.ts). */
export const isMachine = (p: Record<string, unknown>) => p.machine === true || p.machine === 1;

/**
 * The counters one event adds to. `campaignOf` gives the campaign of an email send (from its
 * reason), looked up beforehand for the sends in the chunk.
 */
export function factsOf(e: SpineEvent, campaignOf: (sendId: string) => string | null): Fact[] {
  const out: Fact[] = [];
  const add = (metric: string, dim: string, key: string, cond: Cond = null) => out.push([e.id, metric, dim, key, cond]);
  switch (e.type) {
    case EVENT.page_view: {
      add(METRIC.pageviews, '', '');
      const path = pagePath(e.url);
      if (path !== null) add(METRIC.pageviews, PAGE, path), add(METRIC.pageviews, PAGE + DAILY, path);
      return out;
    }
    case EVENT.custom:
      add(METRIC.events, '', '');
      if (e.name) add(METRIC.events, 'name', e.name.slice(0, MAX_KEY));
      return out;
    case EVENT.form_view:
    case EVENT.form_start: {
      const form = idKey(eventProps(e).form_id);
      if (form) add(FORM[e.type]!, 'form', form);
      return out;
    }
    case EVENT.form_submit: {
      const p = eventProps(e);
      const form = idKey(p.form_id);
      if (form) {
        add(METRIC.formSubmissions, 'form', form);
        add(METRIC.formContacts, 'form', form, 'f');
      }
      const focus = idKey(p.focus_id);
      if (focus) add(METRIC.focusSubmissions, 'focus', `${focus}:${variantKey(p.focus_variant ?? p.variant)}`);
      return out;
    }
    case EVENT.focus_view:
    case EVENT.focus_click:
    case EVENT.focus_close: {
      const p = eventProps(e);
      const focus = idKey(p.focus_id);
      if (focus) add(FOCUS[e.type]!, 'focus', `${focus}:${variantKey(p.focus_variant ?? p.variant)}`);
      return out;
    }
  }
  if ((EMAIL_METRICS as readonly string[]).includes(e.type)) {
    const p = eventProps(e);
    const email = idKey(p.email_id);
    const send = idKey(p.send_id);
    const campaign = send ? campaignOf(send) : null;
    const both = (metric: string, cond: Cond = null) => {
      if (email) add(metric, 'email', email, cond);
      if (campaign) add(metric, 'campaign', campaign, cond);
    };
    const opened = e.type === EVENT.email_opened;
    const clicked = e.type === EVENT.email_clicked;
    if ((opened || clicked) && isMachine(p)) return out;
    both(e.type);
    // Unique: counted at a send's first human open (a click is an open too) and first human click.
    if ((opened || clicked) && send) both(METRIC.emailUniqueOpened, 'o');
    if (clicked && send) both(METRIC.emailUniqueClicked, 'c');
  }
  return out;
}

/** The campaign id in a send's reason (`campaign:<id>:…`), or null. */
export function campaignOfReason(reason: string): string | null {
  const m = /^campaign:([1-9][0-9]{0,15}):/.exec(reason);
  return m ? m[1]! : null;
}
