CREATE TABLE `webhook_subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`url` text NOT NULL,
	`description` text,
	`event_types` text NOT NULL,
	`filters` text DEFAULT '{}' NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_until` integer,
	`start_event_id` integer DEFAULT 0 NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`disabled_reason` text,
	`disabled_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
DROP INDEX `webhook_deliveries_due_idx`;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `subscription_id` integer;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `event_type` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `event_id` integer;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `visitor_id` integer;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `lease_owner` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `first_attempt_at` integer;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `last_attempt_at` integer;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `request_headers` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `response_excerpt` text;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `duration_ms` integer;--> statement-breakpoint
CREATE INDEX `webhook_deliveries_pending_idx` ON `webhook_deliveries` (`next_attempt_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_deliveries_subscription_idx` ON `webhook_deliveries` (`subscription_id`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_order_idx` ON `webhook_deliveries` (`subscription_id`,`contact_id`,`id`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_deliveries_visitor_idx` ON `webhook_deliveries` (`visitor_id`);--> statement-breakpoint
-- The webhooks reaction starts at the end of the log: events stored before this migration happened before any subscription.
INSERT INTO `reaction_cursors` (`name`, `last_event_id`, `updated_at`) SELECT 'webhooks', coalesce(max(`id`), 0), 0 FROM `events` WHERE true
  ON CONFLICT(`name`) DO NOTHING;