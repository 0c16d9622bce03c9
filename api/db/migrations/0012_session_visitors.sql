DROP INDEX `sessions_site_started_idx`;--> statement-breakpoint
DROP INDEX `sessions_started_idx`;--> statement-breakpoint
ALTER TABLE `sessions` ADD `prev_at` integer;--> statement-breakpoint
CREATE INDEX `sessions_visitor_started_idx` ON `sessions` (`visitor_id`,`started_at`);--> statement-breakpoint
UPDATE `sessions` SET `prev_at` = (SELECT p.`started_at` FROM `sessions` p WHERE p.`visitor_id` = `sessions`.`visitor_id` AND p.`started_at` <= `sessions`.`started_at` AND (p.`started_at` < `sessions`.`started_at` OR p.`id` < `sessions`.`id`) ORDER BY p.`started_at` DESC, p.`id` DESC LIMIT 1);--> statement-breakpoint
CREATE INDEX `sessions_site_started_idx` ON `sessions` (`site_id`,`started_at`,`prev_at`,`pageviews`);--> statement-breakpoint
CREATE INDEX `sessions_started_idx` ON `sessions` (`started_at`,`prev_at`,`pageviews`);
