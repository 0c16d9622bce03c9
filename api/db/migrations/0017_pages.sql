CREATE TABLE `page_redirects` (
	`host` text NOT NULL,
	`slug` text NOT NULL,
	`page_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`host`, `slug`)
);
--> statement-breakpoint
CREATE INDEX `page_redirects_page_idx` ON `page_redirects` (`page_id`);--> statement-breakpoint
CREATE TABLE `pages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` integer NOT NULL,
	`host` text DEFAULT '' NOT NULL,
	`slug` text NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`og_image` text,
	`language` text NOT NULL,
	`sections` text NOT NULL,
	`form_ids` text DEFAULT '[]' NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`published_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pages_host_slug_uq` ON `pages` (`host`,`slug`);--> statement-breakpoint
CREATE INDEX `pages_site_idx` ON `pages` (`site_id`);--> statement-breakpoint
CREATE INDEX `pages_status_idx` ON `pages` (`host`,`status`);