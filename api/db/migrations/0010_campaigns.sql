CREATE TABLE `campaign_enrollments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	`rotation` integer NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`source` text NOT NULL,
	`end_reason` text,
	`goal` text,
	`entered_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_enrollments_pass_uq` ON `campaign_enrollments` (`campaign_id`,`contact_id`,`rotation`);--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_enrollments_active_uq` ON `campaign_enrollments` (`campaign_id`,`contact_id`) WHERE status = 'active';--> statement-breakpoint
CREATE INDEX `campaign_enrollments_entered_idx` ON `campaign_enrollments` (`campaign_id`,`entered_at`);--> statement-breakpoint
CREATE INDEX `campaign_enrollments_contact_idx` ON `campaign_enrollments` (`contact_id`);--> statement-breakpoint
CREATE TABLE `campaign_steps` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`version` integer NOT NULL,
	`contact_id` integer NOT NULL,
	`rotation` integer NOT NULL,
	`step_id` text NOT NULL,
	`status` text NOT NULL,
	`due_at` integer NOT NULL,
	`waiting_since` integer,
	`branch` text,
	`lease_owner` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`error` text,
	`skip_reason` text,
	`created_at` integer NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_steps_uq` ON `campaign_steps` (`campaign_id`,`step_id`,`contact_id`,`rotation`);--> statement-breakpoint
CREATE INDEX `campaign_steps_due_idx` ON `campaign_steps` (`due_at`) WHERE status IN ('pending', 'waiting');--> statement-breakpoint
CREATE INDEX `campaign_steps_contact_idx` ON `campaign_steps` (`contact_id`,`status`);--> statement-breakpoint
CREATE INDEX `campaign_steps_report_idx` ON `campaign_steps` (`campaign_id`,`step_id`,`status`);--> statement-breakpoint
CREATE TABLE `campaign_versions` (
	`campaign_id` integer NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `version`)
);
--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`status` text DEFAULT 'draft' NOT NULL,
	`definition` text NOT NULL,
	`version` integer,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`published_at` integer,
	`archived_at` integer
);
--> statement-breakpoint
ALTER TABLE `sites` ADD `timezone` text;