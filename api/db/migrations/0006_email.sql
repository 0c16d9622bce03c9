CREATE TABLE `contact_subscriptions` (
	`contact_id` integer NOT NULL,
	`category_id` integer NOT NULL,
	`subscribed` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `category_id`)
);
--> statement-breakpoint
CREATE INDEX `contact_subscriptions_category_idx` ON `contact_subscriptions` (`category_id`);--> statement-breakpoint
CREATE TABLE `email_broadcasts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email_id` integer NOT NULL,
	`segment_ids` text NOT NULL,
	`send_at` integer,
	`status` text NOT NULL,
	`ab` text,
	`started_at` integer,
	`finished_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `email_broadcasts_due_idx` ON `email_broadcasts` (`status`,`send_at`);--> statement-breakpoint
CREATE TABLE `email_categories` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_categories_key_unique` ON `email_categories` (`key`);--> statement-breakpoint
CREATE TABLE `email_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`send_id` integer NOT NULL,
	`contact_id` integer,
	`to_email` text NOT NULL,
	`from_header` text NOT NULL,
	`subject` text NOT NULL,
	`headers` text NOT NULL,
	`html` text NOT NULL,
	`text` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_outbox_send_id_unique` ON `email_outbox` (`send_id`);--> statement-breakpoint
CREATE INDEX `email_outbox_contact_idx` ON `email_outbox` (`contact_id`);--> statement-breakpoint
CREATE INDEX `email_outbox_to_idx` ON `email_outbox` (`to_email`);--> statement-breakpoint
CREATE TABLE `email_sends` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email_id` integer NOT NULL,
	`contact_id` integer,
	`to_email` text,
	`reason` text NOT NULL,
	`broadcast_id` integer,
	`variant` text,
	`marketing` integer NOT NULL,
	`is_test` integer DEFAULT 0 NOT NULL,
	`variables` text,
	`status` text NOT NULL,
	`skip_reason` text,
	`provider_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`next_attempt_at` integer,
	`batch_key` text,
	`sent_at` integer,
	`delivered_at` integer,
	`opened_at` integer,
	`human_opened_at` integer,
	`clicked_at` integer,
	`human_clicked_at` integer,
	`bounced_at` integer,
	`complained_at` integer,
	`unsubscribed_at` integer,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `email_sends_email_to_reason_uq` ON `email_sends` (`email_id`,`to_email`,`reason`);--> statement-breakpoint
CREATE UNIQUE INDEX `email_sends_email_contact_reason_uq` ON `email_sends` (`email_id`,`contact_id`,`reason`) WHERE contact_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX `email_sends_due_idx` ON `email_sends` (`next_attempt_at`) WHERE status IN ('pending', 'sending');--> statement-breakpoint
CREATE INDEX `email_sends_batch_idx` ON `email_sends` (`batch_key`) WHERE status IN ('pending', 'sending') AND batch_key IS NOT NULL;--> statement-breakpoint
CREATE INDEX `email_sends_contact_idx` ON `email_sends` (`contact_id`,`sent_at`);--> statement-breakpoint
CREATE INDEX `email_sends_to_idx` ON `email_sends` (`to_email`);--> statement-breakpoint
CREATE INDEX `email_sends_email_idx` ON `email_sends` (`email_id`,`status`);--> statement-breakpoint
CREATE INDEX `email_sends_broadcast_idx` ON `email_sends` (`broadcast_id`) WHERE broadcast_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `email_sends_provider_uq` ON `email_sends` (`provider_id`) WHERE provider_id IS NOT NULL;--> statement-breakpoint
CREATE TABLE `email_webhook_receipts` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `emails` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`preheader` text,
	`from_name` text,
	`from_address` text,
	`reply_to` text,
	`html` text NOT NULL,
	`text` text,
	`html_compiled` text NOT NULL,
	`text_compiled` text NOT NULL,
	`category_id` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
-- Marketing emails belong to a category unless told otherwise; this is the one a new installation starts with.
INSERT INTO email_categories (key, name, description, created_at, updated_at) VALUES
  ('marketing', 'Newsletter', 'News, offers and updates', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER));
