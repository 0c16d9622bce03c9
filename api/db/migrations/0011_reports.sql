CREATE TABLE `deal_integrations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `deals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer NOT NULL,
	`company_id` integer,
	`name` text NOT NULL,
	`amount_cents` integer DEFAULT 0 NOT NULL,
	`currency` text NOT NULL,
	`stage` text DEFAULT 'open' NOT NULL,
	`expected_close_date` text,
	`closed_at` integer,
	`owner` text,
	`source` text,
	`lost_reason` text,
	`integration_id` integer,
	`external_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `deals_contact_idx` ON `deals` (`contact_id`);--> statement-breakpoint
CREATE INDEX `deals_stage_closed_idx` ON `deals` (`stage`,`closed_at`);--> statement-breakpoint
CREATE INDEX `deals_created_idx` ON `deals` (`created_at`);--> statement-breakpoint
CREATE INDEX `deals_company_idx` ON `deals` (`company_id`);--> statement-breakpoint
CREATE INDEX `deals_updated_idx` ON `deals` (`updated_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `deals_external_uq` ON `deals` (`integration_id`,`external_id`) WHERE external_id IS NOT NULL;--> statement-breakpoint
CREATE TABLE `rollups` (
	`metric` text NOT NULL,
	`dim` text NOT NULL,
	`hour` integer NOT NULL,
	`site_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`metric`, `dim`, `hour`, `site_id`, `key`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` integer PRIMARY KEY NOT NULL,
	`site_id` integer NOT NULL,
	`visitor_id` integer NOT NULL,
	`contact_id` integer,
	`started_at` integer NOT NULL,
	`last_at` integer NOT NULL,
	`last_event_id` integer NOT NULL,
	`pageviews` integer DEFAULT 1 NOT NULL,
	`entry_page` text,
	`channel` text NOT NULL,
	`source` text,
	`medium` text,
	`campaign` text,
	`referrer` text,
	`country` text,
	`device` text
);
--> statement-breakpoint
CREATE INDEX `sessions_site_started_idx` ON `sessions` (`site_id`,`started_at`,`visitor_id`,`pageviews`);--> statement-breakpoint
CREATE INDEX `sessions_started_idx` ON `sessions` (`started_at`,`visitor_id`,`pageviews`);--> statement-breakpoint
CREATE INDEX `sessions_visitor_idx` ON `sessions` (`visitor_id`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_contact_idx` ON `sessions` (`contact_id`,`started_at`);--> statement-breakpoint
CREATE TABLE `stage_entries` (
	`contact_id` integer NOT NULL,
	`stage_id` integer NOT NULL,
	`entered_at` integer NOT NULL,
	`left_at` integer,
	`score_at_entry` integer,
	`first_feedback_at` integer,
	`event_id` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `stage_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `stage_entries_stage_entered_idx` ON `stage_entries` (`stage_id`,`entered_at`,`left_at`,`event_id`,`score_at_entry`,`first_feedback_at`);--> statement-breakpoint
CREATE INDEX `stage_entries_stage_left_idx` ON `stage_entries` (`stage_id`,`left_at`);--> statement-breakpoint
CREATE INDEX `contacts_first_touch_idx` ON `contacts` (min(coalesce(first_seen_at, created_at), created_at));--> statement-breakpoint
CREATE INDEX `contacts_utm_source_idx` ON `contacts` (first_source ->> 'utm_source');--> statement-breakpoint
CREATE INDEX `contacts_utm_medium_idx` ON `contacts` (first_source ->> 'utm_medium');--> statement-breakpoint
CREATE INDEX `contacts_utm_campaign_idx` ON `contacts` (first_source ->> 'utm_campaign');--> statement-breakpoint
CREATE INDEX `campaign_enrollments_ended_idx` ON `campaign_enrollments` (`ended_at`,`campaign_id`);