import { Hono } from 'hono';
import { z } from 'zod';
import { JOB_STATUSES } from '../db/schema';
import type { Deps } from '../deps';
import { cancelJob, retryJob } from '../jobs/admin';
import { getJob, jobEventsOf, listJobs } from '../jobs/reads';
import type { Job } from '../jobs/types';
import { type AuthVars, callerOf, ensureRole, requireToken } from './auth';

/** The public shape of a job in the API. */
export function jobJson(job: Job) {
  const { leaseOwner, leaseExpiresAt, notifiedAt, replyTo, ...rest } = job;
  return { ...rest, conversationId: replyTo?.conversationId ?? null };
}

const listQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  kind: z.string().min(1).optional(),
  requestedBy: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/**
 * Job status and control for other systems, with the admin API tokens:
 * GET /api/jobs, GET /api/jobs/:id, POST /api/jobs/:id/cancel, POST /api/jobs/:id/retry.
 * A token sees the jobs it started; an admin token sees all.
 */
export function jobsApiRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  app.use('/api/jobs', requireToken(deps, 'viewer'));
  app.use('/api/jobs/*', requireToken(deps, 'viewer'));

  const load = async (c: import('hono').Context<AuthVars>) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id < 1) return { error: c.json({ error: 'id must be a positive whole number' }, 400) };
    const job = await getJob(deps.db, id);
    const caller = callerOf(c);
    if (!job || (caller.role !== 'admin' && job.requestedBy !== caller.key)) return { error: c.json({ error: `no job ${id}` }, 404) };
    return { job };
  };

  app.get('/api/jobs', async (c) => {
    const q = listQuery.safeParse(c.req.query());
    if (!q.success) {
      const i = q.error.issues[0];
      return c.json({ error: `${i?.path.join('.')}: ${i?.message}` }, 400);
    }
    const caller = callerOf(c);
    const requestedBy = caller.role === 'admin' ? q.data.requestedBy : caller.key;
    const list = await listJobs(deps.db, { ...q.data, requestedBy });
    return c.json({ jobs: list.map(jobJson) });
  });

  app.get('/api/jobs/:id', async (c) => {
    const r = await load(c);
    if (r.error) return r.error;
    return c.json({ job: jobJson(r.job), events: await jobEventsOf(deps.db, r.job.id, 50) });
  });

  app.post('/api/jobs/:id/cancel', async (c) => {
    ensureRole(c, 'operator');
    const r = await load(c);
    if (r.error) return r.error;
    const res = await cancelJob(deps.db, r.job.id, callerOf(c).key);
    const accepted = res?.before === 'queued' || res?.before === 'running';
    return c.json({ ok: accepted, before: res?.before, status: res?.after }, accepted ? 200 : 409);
  });

  app.post('/api/jobs/:id/retry', async (c) => {
    ensureRole(c, 'operator');
    const r = await load(c);
    if (r.error) return r.error;
    const res = await retryJob(deps.db, r.job.id, callerOf(c).key);
    if (!res.ok) return c.json({ ok: false, error: `job is ${res.status}; only failed or cancelled jobs can be retried` }, 409);
    return c.json({ ok: true, job: jobJson(res.job) });
  });
  return app;
}
