import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { JOBS } from '../jobs/index';
import { AppError, ForbiddenError, NotFoundError } from '../core/errors';
import { requireApiKey } from './middleware';
import { errors, json, security, type AppEnv } from './shared';

const JOB_NAMES = Object.keys(JOBS) as [string, ...string[]];

// Operators and tests run one scheduled job now instead of at its next tick.
async function runJob(c: Context<AppEnv>, name: string) {
  if (!c.get('apiKey').scopes.includes('admin')) throw new ForbiddenError('Running jobs needs an admin key.');
  // Own keys only: "constructor" or "__proto__" name no job.
  const job = Object.hasOwn(JOBS, name) ? JOBS[name] : undefined;
  if (!job) throw new NotFoundError(`Job "${name.slice(0, 50)}"`);
  try {
    return c.json({ job: name, result: await job.run(c.get('ctx')) }, 200);
  } catch (e) {
    c.get('ctx').log.error('job failed', { job: name, error: e instanceof Error ? e.message : String(e) });
    throw new AppError('JOB_FAILED', `Job "${name}" failed; see the server log.`);
  }
}

export const jobRoutes = new OpenAPIHono<AppEnv>().openapi(
  createRoute({
    method: 'post',
    path: '/api/v1/jobs/{name}',
    operationId: 'runJob',
    tags: ['Jobs'],
    security,
    summary: 'Run a scheduled job now',
    description:
      'Admin scope. The scheduler runs these on its own (every few seconds to every hour); this runs one now and answers what it did: ' +
      '`reactions` (the event spine: attribution, points, triggers, activity, segments), `webhooks` (due deliveries), `emails` (due email sends, through Resend or into the outbox), ' +
      '`segments` (full rebuild of dynamic segments), `retention` (expired anonymous visitors and their events), ' +
      '`reports-rebuild` (recounts the reports\' hourly rollups and visits from the whole event log; the reaction resumes counting when it is done).',
    request: { params: z.object({ name: z.enum(JOB_NAMES).openapi({ param: { name: 'name', in: 'path' }, example: 'reactions' }) }) },
    responses: {
      200: json(z.object({ job: z.string(), result: z.unknown() }).openapi('JobRun'), 'What the job did'),
      500: json(z.object({ error: z.object({ code: z.literal('JOB_FAILED'), message: z.string(), requestId: z.string() }) }), 'The job failed; the server log says why'),
      ...errors(404),
    },
  }),
  (c) => runJob(c, c.req.param('name')) as never,
);

/** The older path, kept working for operators' scripts; the documented one is /api/v1/jobs/{name}. */
export const internalRoutes = new OpenAPIHono<AppEnv>().post('/internal/jobs/:name', requireApiKey, (c) => runJob(c, c.req.param('name')));
