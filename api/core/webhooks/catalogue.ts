import { EVENT } from '../spine/event-types';

/**
 * The published catalogue of webhook event types (GET /api/v1/webhooks/event-types): what a
 * subscription may ask for, where each comes from, what its `data` carries and which filters
 * narrow it. Types named for the spine's events come from the webhooks reaction
 * (spine/reactions/webhooks.ts); contact.created and contact.updated from the walk over changed
 * contact rows, contact.deleted from erasure. Every `data` carries the objects as the REST API
 * answers them (the contact as GET /contacts/{id}, the deal as GET /deals/{id}…), so a consumer
 * needs no call back. The email events are the email channel's; campaigns write no events of
 * their own to the spine yet, so there are no campaign types (they join here when they do).
 */

/** Filters a subscription may set; each narrows only the event types that carry that object. */
export const FILTER_KEYS = ['form_id', 'segment_id', 'email_id', 'asset_id', 'focus_id', 'stage_id'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

interface CatalogueEntry {
  description: string;
  /** The spine event type it is made from, or how it is found otherwise. */
  source: string;
  /** What `data` holds. */
  data: string;
  filters: FilterKey[];
}

const CONTACT = 'contact (as GET /contacts/{id})';
const email = (what: string, extra = ''): CatalogueEntry => ({
  description: what,
  source: '',
  data: `${CONTACT}, send (as GET /email-sends/{id}), email_id, details (the event's properties${extra})`,
  filters: ['email_id'],
});

const ENTRIES = {
  'contact.created': { description: 'A contact was created (API, batch, CSV import, form, identify).', source: 'contact rows', data: CONTACT, filters: [] },
  'contact.updated': {
    description: "A contact's data changed: fields, tags, companies, do-not-contact, points or stage. Changes close together are told once, with the contact as it is then.",
    source: 'contact rows',
    data: CONTACT,
    filters: [],
  },
  'contact.deleted': { description: 'A contact was erased (DELETE /contacts/{id}). Only its id is sent: everything else is gone.', source: 'erasure', data: 'contact: { id }', filters: [] },
  'contact.merged': { description: 'Another contact was merged into this one; the merged id now resolves to it.', source: EVENT.merged, data: `${CONTACT} (the survivor), merged_id`, filters: [] },
  'contact.identified': { description: 'A browser was identified as the contact (form, signed identify, API link, email click).', source: EVENT.identified, data: `${CONTACT}, visitor_id, site_id, via`, filters: [] },
  'form.submitted': { description: 'A form was submitted.', source: EVENT.form_submit, data: `${CONTACT}, form (as GET /forms/{id}), submission (as GET /forms/{id}/results lists it)`, filters: ['form_id'] },
  'segment.joined': { description: 'The contact joined a segment (its filter, or added by hand or an action).', source: EVENT.segment_joined, data: `${CONTACT}, segment (as GET /segments/{id}), via`, filters: ['segment_id'] },
  'segment.left': { description: 'The contact left a segment.', source: EVENT.segment_left, data: `${CONTACT}, segment (as GET /segments/{id}), via`, filters: ['segment_id'] },
  'points.changed': { description: "The contact's points changed.", source: EVENT.points_changed, data: `${CONTACT}, points: { from, to, delta, reason, actor }`, filters: [] },
  'stage.changed': { description: 'The contact moved to another funnel stage (or none).', source: EVENT.stage_changed, data: `${CONTACT}, from_stage and to_stage (as GET /stages/{id}, or null), actor`, filters: ['stage_id'] },
  'deal.won': { description: "One of the contact's deals was won.", source: EVENT.deal_won, data: `${CONTACT}, deal (as GET /deals/{id})`, filters: [] },
  'asset.downloaded': { description: 'An asset was downloaded (contact null when the browser is anonymous).', source: EVENT.asset_download, data: `${CONTACT} or null, visitor_id, asset (as GET /assets/{id})`, filters: ['asset_id'] },
  'focus.converted': {
    description: 'A focus item converted: a click on a notice or link item, a submission of a form item (contact null when anonymous).',
    source: `${EVENT.focus_click}, ${EVENT.form_submit}`,
    data: `${CONTACT} or null, visitor_id, focus_item (as GET /focus-items/{id}), variant`,
    filters: ['focus_id'],
  },
  'email.sent': { ...email('An email was sent to the contact.'), source: EVENT.email_sent },
  'email.delivered': { ...email("The provider delivered an email to the contact's mailbox."), source: EVENT.email_delivered },
  'email.bounced': { ...email('An email to the contact bounced.', ', with bounce_type'), source: EVENT.email_bounced },
  'email.complained': { ...email('The contact marked an email as spam.'), source: EVENT.email_complained },
  'email.opened': { ...email('The contact opened an email (details.machine marks an open a privacy proxy made).'), source: EVENT.email_opened },
  'email.clicked': { ...email('The contact clicked a link in an email (details.machine marks a link scanner).', '; url is the link'), source: EVENT.email_clicked },
  'email.unsubscribed': { ...email('The contact left a subscription category or all marketing email.'), source: EVENT.email_unsubscribed },
} satisfies Record<string, CatalogueEntry>;

export type WebhookEventType = keyof typeof ENTRIES;
export const WEBHOOK_EVENT_TYPES = Object.keys(ENTRIES) as [WebhookEventType, ...WebhookEventType[]];
export const isWebhookEventType = (t: string): t is WebhookEventType => Object.hasOwn(ENTRIES, t);

/** What GET /webhooks/event-types answers. */
export const catalogue = () =>
  WEBHOOK_EVENT_TYPES.map((type) => {
    const e: CatalogueEntry = ENTRIES[type];
    return { type, description: e.description, source: e.source, data: e.data, filters: [...e.filters] };
  });

/** The filters that narrow an event type. */
export const filtersOf = (type: WebhookEventType): readonly FilterKey[] => (ENTRIES[type] as CatalogueEntry).filters;

/** The only types the spine maps one to one; focus.converted needs the item (payloads.ts). */
export const SPINE_TYPES: Record<string, WebhookEventType> = {
  [EVENT.identified]: 'contact.identified',
  [EVENT.merged]: 'contact.merged',
  [EVENT.form_submit]: 'form.submitted',
  [EVENT.segment_joined]: 'segment.joined',
  [EVENT.segment_left]: 'segment.left',
  [EVENT.points_changed]: 'points.changed',
  [EVENT.stage_changed]: 'stage.changed',
  [EVENT.deal_won]: 'deal.won',
  [EVENT.asset_download]: 'asset.downloaded',
  [EVENT.email_sent]: 'email.sent',
  [EVENT.email_delivered]: 'email.delivered',
  [EVENT.email_bounced]: 'email.bounced',
  [EVENT.email_complained]: 'email.complained',
  [EVENT.email_opened]: 'email.opened',
  [EVENT.email_clicked]: 'email.clicked',
  [EVENT.email_unsubscribed]: 'email.unsubscribed',
};

/** Spine event types the webhooks reaction reads. */
export const SPINE_SOURCES: readonly string[] = [...Object.keys(SPINE_TYPES), EVENT.focus_click];

/** The id an event carries for a filter (from its props), or undefined when it carries none. */
export function filterValue(key: FilterKey, props: Record<string, unknown>): unknown {
  switch (key) {
    case 'stage_id':
      return props.to;
    default:
      return props[key];
  }
}
