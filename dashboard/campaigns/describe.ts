// Steps and sources in words, for the nodes of the tree and the menus: "Send email “Welcome”",
// "Wait 1 day", "Opened “Welcome”? (waits up to 3 days)". Names come from the lists the builder
// loaded; an id the lists do not have is shown as "#12".
import type { Action, ActionType, Source, Step, StepType } from './model';

export interface Named {
  id: number;
  name: string;
}

/** The lists the pickers offer (each may be empty if it could not be loaded). */
export interface Lists {
  emails: (Named & { kind: string })[];
  segments: Named[];
  forms: Named[];
  stages: Named[];
  assets: Named[];
  campaigns: Named[];
  tags: string[];
  fields: { key: string; label: string; type: string; options: string[] | null }[];
}

export const emptyLists = (): Lists => ({ emails: [], segments: [], forms: [], stages: [], assets: [], campaigns: [], tags: [], fields: [] });

export const STEP_LABELS: Record<StepType, string> = {
  action: 'Action',
  wait: 'Wait',
  decision: 'Decision',
  condition: 'Condition',
  split: 'Split',
};

/** What each kind of step is for, as the "add a step" menu says it. */
export const STEP_HINTS: Record<Exclude<StepType, 'action'>, string> = {
  wait: 'Pause for a time, until a date, or until a time window.',
  decision: 'Wait for the contact to do something (open, click, visit…): yes if they do in time, else no.',
  condition: 'Check the contact now against a filter: yes or no.',
  split: 'Send contacts down 2–5 paths by percentage (A/B).',
};

export const ACTION_LABELS: Record<ActionType, string> = {
  send_email: 'Send email',
  add_tags: 'Add tags',
  remove_tags: 'Remove tags',
  change_stage: 'Change stage',
  add_to_segment: 'Add to segment',
  remove_from_segment: 'Remove from segment',
  points: 'Change points',
  set_fields: 'Set fields',
  notify: 'Notify your team',
  webhook: 'Call a webhook',
  enroll: 'Enroll in another campaign',
  exit: 'Exit the campaign',
};

export const EVENT_LABELS = {
  email_opened: 'Opened an email',
  email_clicked: 'Clicked a link in an email',
  page_view: 'Visited a page',
  form_submit: 'Submitted a form',
  asset_download: 'Downloaded an asset',
  custom: 'Sent a custom event',
  slot_click: 'Clicked inside a slot',
} as const;

const named = (list: Named[], id: number | null | undefined, none = 'not chosen') => {
  if (id === null || id === undefined) return none;
  const n = list.find((x) => x.id === id);
  return n ? `“${n.name}”` : `#${id}`;
};

export function duration(d: { days?: number; hours?: number; minutes?: number } | undefined): string {
  if (!d) return '?';
  const parts: string[] = [];
  const one = (n: number | undefined, unit: string) => n && parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  one(d.days, 'day');
  one(d.hours, 'hour');
  one(d.minutes, 'minute');
  return parts.join(' ') || '0 minutes';
}

const list = (tags: string[]) => (tags.length ? tags.join(', ') : 'none chosen');

export function describeAction(a: Action, l: Lists): string {
  switch (a.type) {
    case 'send_email':
      return `Send ${named(l.emails, (a as { email_id?: number }).email_id)}`;
    case 'add_tags':
      return `Add tags: ${list(a.tags ?? [])}`;
    case 'remove_tags':
      return `Remove tags: ${list(a.tags ?? [])}`;
    case 'change_stage':
      return a.stage_id === null ? 'Clear the stage' : `Move to stage ${named(l.stages, a.stage_id)}`;
    case 'add_to_segment':
      return `Add to ${named(l.segments, (a as { segment_id?: number }).segment_id)}`;
    case 'remove_from_segment':
      return `Remove from ${named(l.segments, (a as { segment_id?: number }).segment_id)}`;
    case 'points':
      return a.op === 'set' ? `Set points to ${a.value}` : `${a.op === 'add' ? 'Add' : 'Subtract'} ${a.value} points`;
    case 'set_fields':
      return `Set ${Object.keys(a.fields ?? {}).join(', ') || 'no fields yet'}`;
    case 'notify':
      return `Email ${a.to || a.to_field || 'someone'} with ${named(l.emails, (a as { email_id?: number }).email_id)}`;
    case 'webhook':
      return a.url ? `POST to ${a.url}` : 'Webhook (no URL yet)';
    case 'enroll':
      return `Enroll in ${named(l.campaigns, (a as { campaign_id?: number }).campaign_id)}`;
    case 'exit':
      return 'The pass ends here (exited)';
  }
}

const DAYS = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' } as const;

/** The title of a step's node: its name if it has one, else what it does. */
export function stepTitle(s: Step): string {
  if (s.name) return s.name;
  return s.type === 'action' ? ACTION_LABELS[s.action.type] : STEP_LABELS[s.type];
}

/** One line saying what the step does. */
export function describeStep(s: Step, l: Lists): string {
  switch (s.type) {
    case 'action':
      return describeAction(s.action, l);
    case 'wait': {
      const w = s.wait;
      if ('for' in w) return `Wait ${duration(w.for)}`;
      if ('until' in w) return `Wait until ${new Date(w.until).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`;
      return `Wait for ${w.window.days.map((d) => DAYS[d]).join(', ') || 'no day'} ${w.window.from}–${w.window.to} (contact’s time)`;
    }
    case 'decision': {
      const on = s.on;
      const what =
        'points_at_least' in on
          ? `Reached ${on.points_at_least} points`
          : 'stage_id' in on
            ? `Reached stage ${named(l.stages, on.stage_id)}`
            : on.event === 'email_opened' || on.event === 'email_clicked'
              ? `${on.event === 'email_opened' ? 'Opened' : 'Clicked in'} ${on.email_id ? named(l.emails, on.email_id) : 'any email'}`
              : on.event === 'form_submit'
                ? `Submitted ${on.form_id ? named(l.forms, on.form_id) : 'any form'}`
                : on.event === 'asset_download'
                  ? `Downloaded ${on.asset_id ? named(l.assets, on.asset_id) : 'any asset'}`
                  : on.event === 'page_view'
                    ? `Visited a page ${on.url ? `whose URL ${on.url.op.replace('_', ' ')} “${on.url.value}”` : ''}`
                    : on.event === 'slot_click'
                      ? `Clicked inside ${on.slot_id ? `slot #${on.slot_id}` : 'any slot'}${on.variant ? ` (variant “${on.variant}”)` : ''}`
                      : `Sent the event “${on.name ?? ''}”`;
      return `${what}? (waits up to ${duration(s.timeout)})`;
    }
    case 'condition': {
      const n = countLeaves(s.filter);
      return `Matches the filter now? (${n} condition${n === 1 ? '' : 's'})`;
    }
    case 'split':
      return `Split ${s.branches.map((b) => `${b.percent}%`).join(' / ')}`;
  }
}

function countLeaves(f: unknown): number {
  if (!f || typeof f !== 'object') return 0;
  const o = f as Record<string, unknown>;
  if (Array.isArray(o.all)) return o.all.reduce((a: number, c) => a + countLeaves(c), 0);
  if (Array.isArray(o.any)) return o.any.reduce((a: number, c) => a + countLeaves(c), 0);
  if (o.not) return countLeaves(o.not);
  return 1;
}

export function describeSource(s: Source, l: Lists): string {
  if (s.type === 'segment') return `Joins the segment ${named(l.segments, (s as { segment_id?: number }).segment_id)}${s.exit_on_leave ? ' (and leaves the campaign on leaving it)' : ''}`;
  if (s.type === 'form') return `Submits the form ${named(l.forms, (s as { form_id?: number }).form_id)}`;
  return `Sends the custom event “${s.name || '…'}”`;
}

export const SOURCE_LABELS: Record<Source['type'], string> = { segment: 'Segment', form: 'Form submission', event: 'Custom event' };

export const STATUS_LABELS = { draft: 'Draft', active: 'Published', paused: 'Paused', archived: 'Archived' } as const;

const PART_WORDS: Record<string, string> = {
  email_id: 'Email',
  segment_id: 'Segment',
  form_id: 'Form',
  stage_id: 'Stage',
  asset_id: 'Asset',
  campaign_id: 'Campaign',
  tags: 'Tags',
  url: 'URL',
  to: 'Address',
  to_field: 'Contact field',
  name: 'Name',
  value: 'Value',
  op: 'Operation',
  fields: 'Fields',
  for: 'How long',
  until: 'Until',
  window: 'Time window',
  days: 'Days',
  from: 'From',
  timeout: 'Timeout',
  branches: 'Branches',
  points_at_least: 'Points',
  event: 'Event',
  on: 'What the contact does',
  action: 'Action',
  wait: 'Wait',
  id: 'Step id',
  type: 'Type',
  secret: 'Secret',
};

/** The server's path inside a step ("action.email_id", "wait.window.from") as the panel labels it ("Email", "From"). */
export function partLabel(part: string): string {
  if (part === 'filter' || part.startsWith('filter.')) return 'Filter';
  const words = part.split('.').filter((p) => !/^\d+$/.test(p));
  for (let i = words.length - 1; i >= 0; i--) if (PART_WORDS[words[i]!]) return PART_WORDS[words[i]!]!;
  return part;
}
