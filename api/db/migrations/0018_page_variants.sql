CREATE TABLE `page_test_views` (
	`test_id` integer NOT NULL,
	`variant_id` integer NOT NULL,
	`views` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`test_id`, `variant_id`)
);
--> statement-breakpoint
CREATE TABLE `page_test_visitors` (
	`test_id` integer NOT NULL,
	`visitor_id` integer NOT NULL,
	`variant_id` integer NOT NULL,
	`first_event_id` integer NOT NULL,
	`first_seen_at` integer NOT NULL,
	`converted_event_id` integer,
	PRIMARY KEY(`test_id`, `visitor_id`)
);
--> statement-breakpoint
CREATE INDEX `page_test_visitors_visitor_idx` ON `page_test_visitors` (`visitor_id`);--> statement-breakpoint
CREATE TABLE `page_tests` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`page_id` integer NOT NULL,
	`status` text DEFAULT 'running' NOT NULL,
	`goal` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`winner_variant_id` integer,
	`winner_by` text,
	`needs_check` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `page_tests_page_idx` ON `page_tests` (`page_id`);--> statement-breakpoint
CREATE INDEX `page_tests_status_idx` ON `page_tests` (`status`);--> statement-breakpoint
CREATE TABLE `page_variants` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`page_id` integer NOT NULL,
	`test_id` integer NOT NULL,
	`name` text NOT NULL,
	`title` text NOT NULL,
	`sections` text NOT NULL,
	`form_ids` text DEFAULT '[]' NOT NULL,
	`weight` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `page_variants_test_idx` ON `page_variants` (`test_id`);--> statement-breakpoint
CREATE INDEX `page_variants_page_idx` ON `page_variants` (`page_id`);--> statement-breakpoint
ALTER TABLE `pages` ADD `ab_settings` text;--> statement-breakpoint
ALTER TABLE `pages` ADD `ab_test_id` integer;--> statement-breakpoint
ALTER TABLE `pages` ADD `ab_result` text;--> statement-breakpoint
-- The page-tests reaction starts at the end of the log: events stored before this migration belong to no A/B test.
INSERT INTO `reaction_cursors` (`name`, `last_event_id`, `updated_at`) SELECT 'page-tests', coalesce(max(`id`), 0), 0 FROM `events` WHERE true
  ON CONFLICT(`name`) DO NOTHING;
