CREATE TABLE `jobs_schedule` (
	`job` text PRIMARY KEY NOT NULL,
	`next_run_at` integer NOT NULL,
	`token` text NOT NULL,
	`claimed_at` integer NOT NULL,
	`claims` integer DEFAULT 0 NOT NULL,
	`slices` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `pacing_buckets` (
	`name` text PRIMARY KEY NOT NULL,
	`tokens` real NOT NULL,
	`updated_at` integer NOT NULL
);
