CREATE TABLE `contact_aliases` (
	`old_id` integer PRIMARY KEY NOT NULL,
	`contact_id` integer NOT NULL,
	`merged_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `contact_merges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`survivor_id` integer NOT NULL,
	`merged_id` integer NOT NULL,
	`reason` text NOT NULL,
	`snapshot` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `contact_merges_survivor_idx` ON `contact_merges` (`survivor_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer,
	`visitor_id` integer,
	`contact_id` integer,
	`type` text NOT NULL,
	`name` text,
	`url` text,
	`referrer` text,
	`title` text,
	`props` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_contact_idx` ON `events` (`contact_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_visitor_idx` ON `events` (`visitor_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_type_created_idx` ON `events` (`type`,`created_at`);--> statement-breakpoint
CREATE TABLE `reaction_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`last_event_id` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sites` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`public_key` text NOT NULL,
	`secret` text NOT NULL,
	`allowed_origins` text DEFAULT '[]' NOT NULL,
	`consent_required` integer DEFAULT false NOT NULL,
	`respect_dnt` integer DEFAULT false NOT NULL,
	`anonymize_ip` integer DEFAULT false NOT NULL,
	`allow_automation` integer DEFAULT false NOT NULL,
	`retention_days` integer DEFAULT 180 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sites_public_key_unique` ON `sites` (`public_key`);--> statement-breakpoint
CREATE TABLE `visitors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`uid` text NOT NULL,
	`contact_id` integer,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`page_views` integer DEFAULT 0 NOT NULL,
	`source` text,
	`browser` text,
	`os` text,
	`device` text,
	`country` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `visitors_site_uid_uq` ON `visitors` (`site_id`,`uid`);--> statement-breakpoint
CREATE INDEX `visitors_contact_idx` ON `visitors` (`contact_id`);--> statement-breakpoint
CREATE INDEX `visitors_anon_last_seen_idx` ON `visitors` (`last_seen_at`) WHERE contact_id IS NULL;--> statement-breakpoint
ALTER TABLE `contacts` ADD `first_seen_at` integer;--> statement-breakpoint
ALTER TABLE `contacts` ADD `first_source` text;