import type { InStatement } from '@libsql/client';

/**
 * contact.deleted for the subscriptions that want it, in the erasing transaction (before the
 * contact row goes: the row must exist). Only the id is sent; the row names no contact, so
 * erasure leaves it, and nothing about the person is in it.
 */
export function contactDeletedStatement(id: number, now: number): InStatement {
  return {
    sql: `INSERT INTO webhook_deliveries (source, dedupe_key, url, secret, body, subscription_id, event_type, next_attempt_at, created_at)
      SELECT 'webhook:' || s.id, 'webhook:' || s.id || ':contact.deleted:' || ?, s.url, '',
        json_object('type', 'contact.deleted', 'timestamp', ?, 'data', json_object('contact', json_object('id', ?))), s.id, 'contact.deleted', ?, ?
      FROM webhook_subscriptions s
      WHERE s.status = 'active' AND EXISTS (SELECT 1 FROM json_each(s.event_types) WHERE value = 'contact.deleted') AND EXISTS (SELECT 1 FROM contacts WHERE id = ?)
      ON CONFLICT(dedupe_key) DO NOTHING`,
    args: [id, new Date(now).toISOString(), id, now, now, id],
  };
}
