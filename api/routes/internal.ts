import { Hono } from 'hono';
import { JOBS } from '../jobs/index';
import { AppError, ForbiddenError, NotFoundError } from '../core/errors';
import { requireApiKey } from './middleware';
import type { AppEnv } from './shared';

// Operators and tests run one job now: POST /internal/jobs/reactions (admin key).
export const internalRoutes = new Hono<AppEnv>().post('/internal/jobs/:name', requireApiKey, async (c) => {
  if (!c.get('apiKey').scopes.includes('admin')) throw new ForbiddenError('Running jobs needs an admin key.');
  const name = c.req.param('name');
  // Own keys only: "constructor" or "__proto__" name no job.
  const job = Object.hasOwn(JOBS, name) ? JOBS[name] : undefined;
  if (!job) throw new NotFoundError(`Job "${name.slice(0, 50)}"`);
  try {
    return c.json({ job: name, result: await job.run(c.get('ctx')) }, 200);
  } catch (e) {
    c.get('ctx').log.error('job failed', { job: name, error: e instanceof Error ? e.message : String(e) });
    throw new AppError('JOB_FAILED', `Job "${name}" failed; see the server log.`);
  }
});
