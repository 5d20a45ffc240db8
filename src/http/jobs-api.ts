import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { JOB_STATUSES } from '../db/schema';
import type { Deps } from '../deps';
import { canAct, canView, visibilityFilter } from '../jobs/access';
import { cancelJob, retryJob } from '../jobs/admin';
import { getJob, jobEventsOf, listJobs } from '../jobs/reads';
import type { Job } from '../jobs/types';
import { type AuthVars, callerOf, ensureRole } from './auth';
import { ApiError, errorBody, invalidFieldError } from './errors';

/** The public shape of a job in the API. */
export function jobJson(job: Job) {
  const { leaseOwner, leaseExpiresAt, notifiedAt, replyTo, ...rest } = job;
  return { ...rest, conversationId: replyTo?.conversationId ?? null };
}

const listQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  kind: z.string().min(1).optional(),
  requestedBy: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/**
 * Job status and control for other systems, with the API tokens (checked once for /api/* in
 * app.ts): GET /api/jobs, GET /api/jobs/:id, POST /api/jobs/:id/cancel, POST /api/jobs/:id/retry.
 * What a token sees follows the one visibility rule (src/jobs/access.ts): its own jobs, all for admins.
 */
export function jobsApiRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();

  const load = async (c: Context<AuthVars>): Promise<Job> => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id < 1) throw new ApiError(400, 'bad_args', deps.t('http.badId'), 'id');
    const job = await getJob(deps.db, id);
    if (!job || !canView({ caller: callerOf(c) }, job)) throw new ApiError(404, 'not_found', deps.t('http.noJob', { id }), 'id');
    return job;
  };

  app.get('/api/jobs', async (c) => {
    const q = listQuery.safeParse(c.req.query());
    if (!q.success) {
      throw invalidFieldError(deps, q.error.issues, { example: '/api/jobs?status=failed&limit=20', known: Object.keys(listQuery.shape) });
    }
    const f = visibilityFilter({ caller: callerOf(c) });
    if (!f.all && q.data.requestedBy !== undefined && q.data.requestedBy !== f.requestedBy) {
      throw new ApiError(403, 'forbidden', deps.t('http.needsAdmin'), 'requestedBy');
    }
    const list = await listJobs(deps.db, { ...q.data, requestedBy: f.all ? q.data.requestedBy : f.requestedBy });
    return c.json({ ok: true, jobs: list.map(jobJson) });
  });

  app.get('/api/jobs/:id', async (c) => {
    const job = await load(c);
    return c.json({ ok: true, job: jobJson(job), events: await jobEventsOf(deps.db, job.id, 50) });
  });

  app.post('/api/jobs/:id/cancel', async (c) => {
    ensureRole(c, deps, 'operator');
    const job = await load(c);
    if (!canAct(callerOf(c), job)) throw new ApiError(404, 'not_found', deps.t('http.noJob', { id: job.id }), 'id');
    const res = await cancelJob(deps.db, job.id, callerOf(c).key);
    const accepted = res?.before === 'queued' || res?.before === 'running';
    if (!accepted) return c.json(errorBody('conflict', deps.t('http.notCancellable', { status: res?.before ?? job.status })), 409);
    return c.json({ ok: true, before: res?.before, status: res?.after });
  });

  app.post('/api/jobs/:id/retry', async (c) => {
    ensureRole(c, deps, 'operator');
    const job = await load(c);
    if (!canAct(callerOf(c), job)) throw new ApiError(404, 'not_found', deps.t('http.noJob', { id: job.id }), 'id');
    const res = await retryJob(deps.db, job.id, callerOf(c).key);
    if (!res.ok) return c.json(errorBody('conflict', deps.t('http.notRetryable', { status: res.status })), 409);
    return c.json({ ok: true, job: jobJson(res.job) });
  });
  return app;
}
