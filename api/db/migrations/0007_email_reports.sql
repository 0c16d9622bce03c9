ALTER TABLE `email_sends` ADD `bounce_type` text;--> statement-breakpoint
CREATE INDEX `email_sends_sent_idx` ON `email_sends` (`sent_at`) WHERE status = 'sent';--> statement-breakpoint
-- Written by hand: drizzle-kit splits an expression's arguments into columns.
CREATE INDEX `events_email_idx` ON `events` (json_extract(props, '$.email_id'), `type`) WHERE type IN ('email_opened', 'email_clicked');
