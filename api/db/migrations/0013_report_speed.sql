DROP INDEX `stage_entries_stage_entered_idx`;--> statement-breakpoint
ALTER TABLE `stage_entries` ADD `accepted_at` integer;--> statement-breakpoint
ALTER TABLE `stage_entries` ADD `rejected_at` integer;--> statement-breakpoint
ALTER TABLE `stage_entries` ADD `first_touch_at` integer;--> statement-breakpoint
UPDATE `stage_entries` SET
  `accepted_at` = (SELECT min(e.`created_at`) FROM `events` e WHERE e.`contact_id` = `stage_entries`.`contact_id` AND e.`type` = 'sales_accepted' AND e.`created_at` >= `stage_entries`.`entered_at`),
  `rejected_at` = (SELECT min(e.`created_at`) FROM `events` e WHERE e.`contact_id` = `stage_entries`.`contact_id` AND e.`type` = 'sales_rejected' AND e.`created_at` >= `stage_entries`.`entered_at`)
  WHERE `first_feedback_at` IS NOT NULL;--> statement-breakpoint
UPDATE `stage_entries` SET `first_touch_at` = (SELECT min(coalesce(c.`first_seen_at`, c.`created_at`), c.`created_at`) FROM `contacts` c WHERE c.`id` = `stage_entries`.`contact_id`);--> statement-breakpoint
CREATE TRIGGER `stage_entries_first_touch` AFTER UPDATE OF `first_seen_at`, `created_at` ON `contacts`
  WHEN min(coalesce(old.`first_seen_at`, old.`created_at`), old.`created_at`) IS NOT min(coalesce(new.`first_seen_at`, new.`created_at`), new.`created_at`)
BEGIN
  UPDATE `stage_entries` SET `first_touch_at` = min(coalesce(new.`first_seen_at`, new.`created_at`), new.`created_at`) WHERE `contact_id` = new.`id`;
END;--> statement-breakpoint
CREATE INDEX `stage_entries_stage_first_touch_idx` ON `stage_entries` (`stage_id`,`first_touch_at`);--> statement-breakpoint
CREATE INDEX `stage_entries_stage_entered_idx` ON `stage_entries` (`stage_id`,`entered_at`,`left_at`,`event_id`,`score_at_entry`,`first_feedback_at`,`accepted_at`,`rejected_at`);
