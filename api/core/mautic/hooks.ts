import type { z } from 'zod';
import type { Ctx } from '../context';
import { BadRequestError, NotFoundError, ValidationError, zodErrors, type FieldError } from '../errors';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
  WebhookInput,
  WebhookPatch,
  type WebhookView,
} from '../webhooks/subscriptions';
import type { WebhookEventType } from '../webhooks/catalogue';
import { offsetPage, type Window } from './paging';

/**
 * Mautic's webhooks (`/api/hooks`, WebhookApiController) over Leadline's webhook subscriptions.
 * A hook's `triggers` are Mautic's event names; each is delivered as the Leadline event types
 * below. Deliveries are Leadline's (Standard Webhooks, one event per request, Leadline's REST
 * shapes), not Mautic's payload: docs/mautic-compat.md says how they differ.
 */

interface Trigger {
  /** Mautic's label (its en_US translation). */
  label: string;
  description: string;
  types: WebhookEventType[];
}

/** Mautic's triggers (the WebhookBuilderEvent subscribers of its bundles) that Leadline delivers, in Mautic's order. */
export const MAUTIC_TRIGGERS: Record<string, Trigger> = {
  'mautic.lead_post_save_new': {
    label: 'Contact Identified Event',
    description: 'Triggered when a contact is identified. Leadline: contact.created.',
    types: ['contact.created'],
  },
  'mautic.lead_post_save_update': {
    label: 'Contact Updated Event',
    description: 'Triggered when a contact is updated. Leadline: contact.updated.',
    types: ['contact.updated'],
  },
  'mautic.lead_points_change': {
    label: 'Contact Points Changed Event',
    description: "Triggered when a contact's points are modified. Leadline: points.changed.",
    types: ['points.changed'],
  },
  'mautic.lead_post_delete': {
    label: 'Contact Deleted Event',
    description: 'Triggered when a contact is deleted. Leadline: contact.deleted.',
    types: ['contact.deleted'],
  },
  'mautic.lead_channel_subscription_changed': {
    label: 'Contact Channel Subscription Change Event',
    description: "Triggered when a contact's channel subscription status changes. Leadline: contact.updated (every change; the contact carries do_not_contact) and email.unsubscribed.",
    types: ['contact.updated', 'email.unsubscribed'],
  },
  'mautic.lead_company_change': {
    label: 'Contact Company Subscription Change Event',
    description: 'Triggered when a company is added or removed to/from contact. Leadline: contact.updated (every change; the contact carries its companies).',
    types: ['contact.updated'],
  },
  'mautic.lead_list_change': {
    label: 'Contact Segment Membership Change Event',
    description: 'Triggered when a contact segment membership is changed. Leadline: segment.joined and segment.left.',
    types: ['segment.joined', 'segment.left'],
  },
  'mautic.email_on_send': { label: 'Email Send Event', description: 'Triggered when an email is sent. Leadline: email.sent.', types: ['email.sent'] },
  'mautic.email_on_open': { label: 'Email Open Event', description: 'Triggered when an email is opened. Leadline: email.opened.', types: ['email.opened'] },
  'mautic.form_on_submit': { label: 'Form Submit Event', description: 'Triggered when a form is submitted. Leadline: form.submitted.', types: ['form.submitted'] },
};

/** Mautic's triggers Leadline has no event for: refused (422) with the reason, not listed by /hooks/triggers. */
export const UNMAPPED_TRIGGERS: Record<string, string> = {
  'mautic.company_post_save': 'Leadline sends no company events',
  'mautic.company_post_delete': 'Leadline sends no company events',
  'mautic.page_on_hit': 'Leadline sends no page-hit events',
  'mautic.sms_on_send': 'Leadline sends no text messages',
};

const TRIGGER_NAMES = Object.keys(MAUTIC_TRIGGERS);

/** GET /hooks/triggers: Mautic's `{ triggers: { name: { label, description } } }`. */
export const mauticTriggers = () => ({
  triggers: Object.fromEntries(TRIGGER_NAMES.map((k) => [k, { label: MAUTIC_TRIGGERS[k]!.label, description: MAUTIC_TRIGGERS[k]!.description }])),
});

/** The event types a list of triggers is delivered as, in the catalogue's terms, without repeats. */
export function eventTypesOf(triggers: readonly string[]): WebhookEventType[] {
  return [...new Set(triggers.flatMap((t) => MAUTIC_TRIGGERS[t]?.types ?? []))];
}

/** The triggers a subscription serves: every trigger all of whose event types it receives. */
export function triggersOf(types: readonly WebhookEventType[]): string[] {
  return TRIGGER_NAMES.filter((t) => MAUTIC_TRIGGERS[t]!.types.every((x) => types.includes(x)));
}

/** A hook in Mautic's layout (Webhook::loadApiMetadata, groups hookDetails, categoryList, publishDetails). */
export function mauticHook(w: WebhookView, secret: string | null = null) {
  return {
    isPublished: w.status === 'active',
    dateAdded: w.created_at,
    dateModified: w.updated_at,
    createdBy: null,
    createdByUser: null,
    modifiedBy: null,
    modifiedByUser: null,
    id: w.id as number | null,
    // Leadline's description is the subscription's label: Mautic's name.
    name: w.description ?? w.url,
    description: null,
    webhookUrl: w.url,
    // Answered once, when the hook is made (Leadline never shows a secret again).
    secret,
    // Leadline delivers oldest first, whatever was asked.
    eventsOrderbyDir: 'ASC',
    category: null,
    triggers: triggersOf(w.event_types),
  };
}

// Leadline's field names in its errors, as Mautic's hook calls them.
const MAUTIC_FIELD: Record<string, string> = { url: 'webhookUrl', event_types: 'triggers', description: 'name', status: 'isPublished' };
const renamed = (list: FieldError[]): FieldError[] =>
  list.map((d) => {
    const [head, ...rest] = d.field.split('.');
    return { ...d, field: [MAUTIC_FIELD[head!] ?? head, ...rest].join('.') };
  });

/** Runs a subscription call, answering its validation errors with Mautic's field names. */
async function inMauticTerms<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(renamed(e.details ?? []));
    throw e;
  }
}

interface HookBody {
  name?: string | null;
  webhookUrl?: string;
  triggers?: string[];
  isPublished?: boolean;
}

/** Reads Mautic's hook fields from a body (`description`, `secret`, `category` are not kept; others ignored). */
function hookBody(body: Record<string, unknown>): HookBody {
  const problems: FieldError[] = [];
  const out: HookBody = {};
  const text = (k: string, max: number): string | null | undefined => {
    const v = body[k];
    if (v === undefined) return undefined;
    if (v === null || (typeof v === 'string' && v.trim() === '')) return null;
    if (typeof v !== 'string' || v.trim().length > max) return void problems.push({ field: k, message: `must be text of at most ${max} characters` });
    return v.trim();
  };
  out.name = text('name', 200);
  text('description', 2000);
  const url = text('webhookUrl', 2048);
  if (url === null) problems.push({ field: 'webhookUrl', message: 'a valid URL is required' });
  else if (url !== undefined) out.webhookUrl = url;
  const order = body.eventsOrderbyDir;
  if (order !== undefined && order !== null && order !== '' && !(typeof order === 'string' && /^(ASC|DESC)$/i.test(order))) {
    problems.push({ field: 'eventsOrderbyDir', message: 'must be ASC or DESC' });
  }
  const pub = body.isPublished;
  if (pub !== undefined) {
    if (pub === true || pub === 1 || pub === '1' || pub === 'true') out.isPublished = true;
    else if (pub === false || pub === 0 || pub === '0' || pub === 'false') out.isPublished = false;
    else problems.push({ field: 'isPublished', message: 'must be true or false' });
  }
  const triggers = body.triggers;
  if (triggers !== undefined) {
    if (!Array.isArray(triggers) || triggers.length > 50 || triggers.some((t) => typeof t !== 'string' || t.length > 100)) {
      problems.push({ field: 'triggers', message: 'must be a list of at most 50 trigger names (GET /api/hooks/triggers lists them)' });
    } else {
      for (const t of triggers as string[]) {
        if (Object.hasOwn(MAUTIC_TRIGGERS, t)) continue;
        const why = Object.hasOwn(UNMAPPED_TRIGGERS, t) ? UNMAPPED_TRIGGERS[t] : null;
        problems.push({ field: 'triggers', message: why ? `${t} is not supported: ${why}` : `unknown trigger "${t}" (GET /api/hooks/triggers lists them)` });
      }
      out.triggers = [...new Set(triggers as string[])];
    }
  }
  if (problems.length) throw new ValidationError(problems);
  return out;
}

function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(renamed(zodErrors(r.error)));
  return r.data;
}

/** POST /hooks/new (and PUT on an unknown id): a subscription to the triggers' event types; its secret is in this answer only. */
export async function newMauticHook({ ctx, input }: { ctx: Ctx; input: Record<string, unknown> }) {
  const b = hookBody(input);
  const problems: FieldError[] = [];
  if (!b.name) problems.push({ field: 'name', message: 'a name is required' });
  if (!b.webhookUrl) problems.push({ field: 'webhookUrl', message: 'a valid URL is required' });
  if (!b.triggers?.length) problems.push({ field: 'triggers', message: 'choose at least one trigger (GET /api/hooks/triggers lists them)' });
  if (problems.length) throw new ValidationError(problems);
  const data = parsed(WebhookInput, { url: b.webhookUrl, event_types: eventTypesOf(b.triggers!), description: b.name });
  const created = await inMauticTerms(() => createSubscription({ ctx, input: data }));
  const view = b.isPublished === false ? await updateSubscription({ ctx, input: { id: created.id, patch: { status: 'disabled' } } }) : created;
  return { hook: mauticHook(view, created.secret) };
}

export const getMauticHook = async ({ ctx, input }: { ctx: Ctx; input: { id: number } }) => ({ hook: mauticHook(await getSubscription({ ctx, input })) });

/** GET /hooks: oldest first; `published=1` lists the active ones only. */
export async function listMauticHooks({ ctx, input }: { ctx: Ctx; input: Window & { published?: string; search?: string } }) {
  if (input.search) throw new BadRequestError('search is not supported on hooks: page through them with start and limit.');
  const active = input.published === '1' || input.published === 'true';
  const { total, items } = await offsetPage(
    ctx,
    {
      from: 'webhook_subscriptions',
      where: active ? { sql: "status = 'active'", args: [] } : undefined,
      sort: null,
      list: (p) => listSubscriptions({ ctx, input: { ...p, status: active ? 'active' : undefined } }),
    },
    input,
  );
  return { total, hooks: items.map((w) => mauticHook(w)) };
}

/**
 * PATCH /hooks/{id}/edit changes what is given; `triggers` are added to the hook's (as Mautic
 * adds them). PUT replaces: name, webhookUrl and triggers are required, the event types become
 * exactly the triggers', Leadline's filters are cleared, and an unknown id makes a new hook (201).
 */
export async function editMauticHook({ ctx, input }: { ctx: Ctx; input: { id: number; body: Record<string, unknown>; replace: boolean } }) {
  let current: WebhookView;
  try {
    current = await getSubscription({ ctx, input });
  } catch (e) {
    if (e instanceof NotFoundError && input.replace) return { ...(await newMauticHook({ ctx, input: input.body })), created: true };
    throw e;
  }
  const b = hookBody(input.body);
  let patch: WebhookPatch;
  if (input.replace) {
    const problems: FieldError[] = [];
    if (!b.name) problems.push({ field: 'name', message: 'a name is required' });
    if (!b.webhookUrl) problems.push({ field: 'webhookUrl', message: 'a valid URL is required' });
    if (!b.triggers?.length) problems.push({ field: 'triggers', message: 'choose at least one trigger (GET /api/hooks/triggers lists them)' });
    if (problems.length) throw new ValidationError(problems);
    patch = { url: b.webhookUrl, description: b.name, event_types: eventTypesOf(b.triggers!), filters: {}, status: b.isPublished === false ? 'disabled' : 'active' };
  } else {
    if (b.name === null) throw new ValidationError([{ field: 'name', message: 'must not be empty' }]);
    patch = {
      url: b.webhookUrl,
      description: b.name,
      event_types: b.triggers ? [...new Set([...current.event_types, ...eventTypesOf(b.triggers)])] : undefined,
      status: b.isPublished === undefined ? undefined : b.isPublished ? 'active' : 'disabled',
    };
  }
  // Leave out what is not changed (a status already in place is not set again: re-enabling would not reset the reason).
  if (patch.status === current.status) delete patch.status;
  const clean = parsed(WebhookPatch, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)));
  const view = await inMauticTerms(() => updateSubscription({ ctx, input: { id: input.id, patch: clean } }));
  return { hook: mauticHook(view), created: false };
}

/** DELETE /hooks/{id}/delete: the subscription and its delivery log go; the hook is answered with id null. */
export async function deleteMauticHook({ ctx, input }: { ctx: Ctx; input: { id: number } }) {
  const shaped = mauticHook(await getSubscription({ ctx, input }));
  await deleteSubscription({ ctx, input });
  return { hook: { ...shaped, id: null } };
}
