import type { Reaction } from '../types';
import { SPINE_SOURCES } from '../../webhooks/catalogue';
import { webhookStatements, webhooksOnContactChanges } from '../../webhooks/react';

/** Webhook subscriptions get deliveries of the events they want (webhooks/react.ts). */
export const webhooks: Reaction = {
  name: 'webhooks',
  types: SPINE_SOURCES,
  handle: (ctx, events) => webhookStatements(ctx, events),
};

/** …and of contact rows created or changed (found by contacts.updated_at, not by events); then the sender is woken. */
export const webhooksOnContactData = { name: 'webhooks-contact-changes', run: webhooksOnContactChanges };
