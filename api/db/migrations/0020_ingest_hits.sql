CREATE TABLE `ingest_counters` (
	`name` text PRIMARY KEY NOT NULL,
	`n` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ingest_dead` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`hit_id` text,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`error` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ingest_hits` (
	`id` text PRIMARY KEY NOT NULL,
	`stored_at` integer NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `ingest_hits_stored_idx` ON `ingest_hits` (`stored_at`);