ALTER TABLE `email_broadcasts` ADD `phase` text;--> statement-breakpoint
ALTER TABLE `email_broadcasts` ADD `cursor` integer;--> statement-breakpoint
ALTER TABLE `email_broadcasts` ADD `winner` text;--> statement-breakpoint
ALTER TABLE `email_broadcasts` ADD `decided_at` integer;