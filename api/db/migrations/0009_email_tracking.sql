CREATE TABLE `email_identify_uses` (
	`token` text PRIMARY KEY NOT NULL,
	`used_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `email_identify_uses_expires_idx` ON `email_identify_uses` (`expires_at`);