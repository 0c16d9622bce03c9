import { sqliteTable, integer, text, real } from 'drizzle-orm/sqlite-core';

// The jobs schedule on Workers with a jobs Queue (JOBS_QUEUE, api/jobs/queue.ts): one row per job.
// A cron invocation claims a due job with one conditional upsert (next_run_at <= now), so however
// many invocations run at once each due job is enqueued once per interval. The token names the
// claim: queue messages carry it, and a slice whose token is no longer the row's (a later tick
// claimed the job again) stops instead of running beside the new chain.
export const jobsSchedule = sqliteTable('jobs_schedule', {
  job: text('job').primaryKey(),
  nextRunAt: integer('next_run_at').notNull(),
  token: text('token').notNull(),
  claimedAt: integer('claimed_at').notNull(),
  // Claims made (one per enqueue by the cron), and slices the consumers ran for the current claim.
  claims: integer('claims').notNull().default(0),
  slices: integer('slices').notNull().default(0),
});

// Shared token buckets pacing calls to a provider (Resend's requests per second) across every
// sender: Node processes on one file, Worker isolates and Queue consumers on one Turso database.
// One row per bucket; a take is one conditional upsert (core/util/pacing.ts).
export const pacingBuckets = sqliteTable('pacing_buckets', {
  name: text('name').primaryKey(),
  tokens: real('tokens').notNull(),
  updatedAt: integer('updated_at').notNull(),
});
