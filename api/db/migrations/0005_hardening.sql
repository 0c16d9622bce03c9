CREATE TABLE `idempotency_keys` (
	`api_key_id` integer NOT NULL,
	`key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`status` integer,
	`headers` text,
	`body` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`api_key_id`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_created_idx` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
ALTER TABLE `sites` ADD `is_sample` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `visitors` ADD `proven_at` integer;--> statement-breakpoint
ALTER TABLE `point_rules` ADD `form_id` integer;--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `contact_id` integer;--> statement-breakpoint
CREATE INDEX `webhook_deliveries_contact_idx` ON `webhook_deliveries` (`contact_id`);--> statement-breakpoint
UPDATE `visitors` SET `proven_at` = (SELECT min(e.created_at) FROM events e WHERE e.visitor_id = visitors.id AND e.type = 'identified' AND e.props ->> 'via' IN ('identify', 'api')) WHERE `contact_id` IS NOT NULL;
--> statement-breakpoint
UPDATE `webhook_deliveries` SET `contact_id` = `body` ->> '$.data.contact.id' WHERE `contact_id` IS NULL;
--> statement-breakpoint
UPDATE `sites` SET `is_sample` = 1 WHERE `id` = (SELECT `value` ->> '$.site_id' FROM `app_state` WHERE `key` = 'demo_samples' AND json_valid(`value`));
