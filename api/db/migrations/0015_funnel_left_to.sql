DROP INDEX `stage_entries_stage_entered_idx`;--> statement-breakpoint
ALTER TABLE `stage_entries` ADD `left_to` integer;--> statement-breakpoint
UPDATE `stage_entries` SET `left_to` = (SELECT x.`props` ->> 'to' FROM `events` x
  WHERE x.`contact_id` = `stage_entries`.`contact_id` AND x.`type` = 'stage_changed' AND x.`props` ->> 'from' = `stage_entries`.`stage_id`
    AND (x.`created_at` > `stage_entries`.`entered_at` OR (x.`created_at` = `stage_entries`.`entered_at` AND x.`id` > `stage_entries`.`event_id`))
  ORDER BY x.`created_at`, x.`id` LIMIT 1)
  WHERE `left_at` IS NOT NULL;--> statement-breakpoint
CREATE INDEX `stage_entries_stage_entered_idx` ON `stage_entries` (`stage_id`,`entered_at`,`left_at`,`event_id`,`score_at_entry`,`first_feedback_at`,`accepted_at`,`rejected_at`,`left_to`);
