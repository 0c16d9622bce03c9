CREATE TABLE `api_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_unique` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_created_idx` ON `api_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `contact_tags` (
	`contact_id` integer NOT NULL,
	`tag_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `tag_id`)
);
--> statement-breakpoint
CREATE INDEX `contact_tags_tag_idx` ON `contact_tags` (`tag_id`,`contact_id`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text,
	`email_normalized` text,
	`first_name` text,
	`last_name` text,
	`phone` text,
	`job_title` text,
	`city` text,
	`country` text,
	`custom` text DEFAULT '{}' NOT NULL,
	`points` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_active_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_email_uq` ON `contacts` (`email_normalized`) WHERE email_normalized IS NOT NULL;--> statement-breakpoint
CREATE INDEX `contacts_created_idx` ON `contacts` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_updated_idx` ON `contacts` (`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_last_active_idx` ON `contacts` (`last_active_at`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_first_name_idx` ON `contacts` (lower(first_name));--> statement-breakpoint
CREATE INDEX `contacts_last_name_idx` ON `contacts` (lower(last_name));--> statement-breakpoint
CREATE TABLE `do_not_contact` (
	`contact_id` integer NOT NULL,
	`channel` text NOT NULL,
	`reason` text NOT NULL,
	`comment` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `channel`)
);
--> statement-breakpoint
CREATE TABLE `fields` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`label` text NOT NULL,
	`type` text NOT NULL,
	`options` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fields_key_unique` ON `fields` (`key`);--> statement-breakpoint
CREATE TABLE `tags` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tags_name_unique` ON `tags` (`name`);--> statement-breakpoint
CREATE TABLE `companies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`domain` text,
	`website` text,
	`industry` text,
	`employees` integer,
	`annual_revenue` integer,
	`city` text,
	`country` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `companies_domain_uq` ON `companies` (`domain`) WHERE domain IS NOT NULL;--> statement-breakpoint
CREATE INDEX `companies_name_idx` ON `companies` (lower(name));--> statement-breakpoint
CREATE TABLE `company_contacts` (
	`company_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	`is_primary` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`company_id`, `contact_id`)
);
--> statement-breakpoint
CREATE INDEX `company_contacts_contact_idx` ON `company_contacts` (`contact_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `company_contacts_primary_uq` ON `company_contacts` (`contact_id`) WHERE is_primary = 1;