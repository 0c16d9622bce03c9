CREATE TABLE `app_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `point_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer,
	`visitor_id` integer,
	`rule_id` integer,
	`event_id` integer,
	`once` integer DEFAULT 0 NOT NULL,
	`delta` integer NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `point_log_rule_event_uq` ON `point_log` (`rule_id`,`event_id`) WHERE rule_id IS NOT NULL AND event_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `point_log_once_contact_uq` ON `point_log` (`rule_id`,`contact_id`) WHERE once = 1 AND contact_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `point_log_once_visitor_uq` ON `point_log` (`rule_id`,`visitor_id`) WHERE once = 1 AND contact_id IS NULL;--> statement-breakpoint
CREATE INDEX `point_log_contact_idx` ON `point_log` (`contact_id`,`rule_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `point_log_visitor_idx` ON `point_log` (`visitor_id`);--> statement-breakpoint
CREATE TABLE `point_rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`event_type` text NOT NULL,
	`filter` text DEFAULT '{}' NOT NULL,
	`delta` integer NOT NULL,
	`repeatable` integer DEFAULT true NOT NULL,
	`cap_count` integer,
	`cap_period` text,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `point_triggers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`threshold` integer NOT NULL,
	`actions` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `segment_exclusions` (
	`segment_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `contact_id`)
);
--> statement-breakpoint
CREATE TABLE `segment_members` (
	`segment_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	`source` text NOT NULL,
	`added_at` integer NOT NULL,
	PRIMARY KEY(`segment_id`, `contact_id`)
);
--> statement-breakpoint
CREATE INDEX `segment_members_contact_idx` ON `segment_members` (`contact_id`);--> statement-breakpoint
CREATE TABLE `segments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`kind` text NOT NULL,
	`filter` text,
	`built_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `stages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`position` integer NOT NULL,
	`is_mql` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `stages_name_unique` ON `stages` (`name`);--> statement-breakpoint
CREATE TABLE `trigger_fires` (
	`trigger_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	`event_id` integer NOT NULL,
	`fired_at` integer NOT NULL,
	PRIMARY KEY(`trigger_id`, `contact_id`)
);
--> statement-breakpoint
CREATE INDEX `trigger_fires_contact_idx` ON `trigger_fires` (`contact_id`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source` text NOT NULL,
	`dedupe_key` text NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`body` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_dedupe_key_unique` ON `webhook_deliveries` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
ALTER TABLE `contacts` ADD `stage_id` integer;--> statement-breakpoint
CREATE INDEX `contacts_stage_idx` ON `contacts` (`stage_id`);--> statement-breakpoint
CREATE INDEX `contacts_points_idx` ON `contacts` (`points`);--> statement-breakpoint
ALTER TABLE `visitors` ADD `points` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `events_contact_type_idx` ON `events` (`contact_id`,`type`,`created_at`);