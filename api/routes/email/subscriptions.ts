import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { DNC_CHANNELS, DNC_REASONS } from '../../core/contacts/dnc';
import { getContactSubscriptions, putContactSubscriptions } from '../../core/email/subscriptions';
import { errors, IdParam, json, jsonBody, security, Timestamp, type AppEnv } from '../shared';

const tags = ['Email categories'];

const CategoryState = z
  .object({
    category_id: z.number().int(),
    key: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    subscribed: z.boolean(),
    updated_at: Timestamp.nullable().openapi({ description: 'When the contact last left or rejoined it; null: never (subscribed by default)' }),
  })
  .openapi('CategorySubscription');

const Subscriptions = z
  .object({
    contact_id: z.number().int(),
    unsubscribed_from_all: z.boolean().openapi({
      description: 'The contact left all marketing email (do-not-contact on email with reason `unsubscribed`; lift it with DELETE /contacts/{id}/do-not-contact/email)',
    }),
    email_blocked: z
      .object({ channel: z.enum(DNC_CHANNELS), reason: z.enum(DNC_REASONS) })
      .nullable()
      .openapi({ description: 'Another do-not-contact entry (bounced, complained, manual, or for all channels) that stops marketing email whatever the categories say' }),
    categories: z.array(CategoryState).openapi({ description: 'Every subscription category, with this contact\'s state' }),
  })
  .openapi('ContactSubscriptions');

const SubscriptionsPut = z
  .strictObject({
    categories: z
      .array(z.strictObject({ category_id: z.number().int().positive(), subscribed: z.boolean() }))
      .min(1)
      .max(1000)
      .refine((v) => new Set(v.map((c) => c.category_id)).size === v.length, 'names a category twice'),
  })
  .openapi('ContactSubscriptionsInput', { example: { categories: [{ category_id: 1, subscribed: false }] } });

export const subscriptionRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/contacts/{id}/subscriptions',
      operationId: 'getContactSubscriptions',
      tags,
      security,
      summary: "A contact's subscription categories",
      description: 'Each category with whether the contact gets it (no choice made: subscribed), and whether the contact left all marketing email.',
      request: { params: IdParam },
      responses: { 200: json(Subscriptions, 'The contact\'s subscriptions'), ...errors(404) },
    }),
    async (c) => c.json(await getContactSubscriptions({ ctx: c.get('ctx'), input: c.req.valid('param') }), 200),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/api/v1/contacts/{id}/subscriptions',
      operationId: 'setContactSubscriptions',
      tags,
      security,
      summary: "Set a contact's subscription categories",
      description:
        'Leaves or rejoins the categories named; the others keep their state. Each category left is an `email_unsubscribed` event (`via: "api"`); the next marketing send of that category to the contact is skipped with reason `unsubscribed`. Leaving all marketing email is `PUT /contacts/{id}/do-not-contact/email` with reason `unsubscribed`.',
      request: { params: IdParam, body: jsonBody(SubscriptionsPut) },
      responses: { 200: json(Subscriptions, 'The contact\'s subscriptions now'), ...errors(404, 415) },
    }),
    async (c) =>
      c.json(await putContactSubscriptions({ ctx: c.get('ctx'), input: { id: c.req.valid('param').id, categories: c.req.valid('json').categories } }), 200),
  );
