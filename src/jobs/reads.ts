import type { Database } from '../db/client';
import type { JobStatus } from '../db/schema';
import { type VisibilityFilter, visibilitySql } from './access';
import { toDate, toJob } from './queue';
import type { Job } from './types';

/** One job by id (callers check `canView` before showing it). */
export async function getJob(db: Database, id: number): Promise<Job | null> {
  const rows = await db.query<Record<string, unknown>>(`select * from jobs where id = $1`, [id]);
  return rows[0] ? toJob(rows[0]) : null;
}

/** One event of a job's log. */
export interface JobEvent {
  at: Date;
  type: string;
  message: string | null;
  data: unknown;
}

/** The newest events of a job, oldest first. */
export async function jobEventsOf(db: Database, id: number, limit = 10): Promise<JobEvent[]> {
  const rows = await db.query<{ at: Date; type: string; message: string | null; data: unknown }>(
    `select * from (select id, at, type, message, data from job_events where job_id = $1 order by id desc limit $2) e order by id`,
    [id, limit],
  );
  return rows.map((r) => ({ at: toDate(r.at) as Date, type: r.type, message: r.message, data: r.data }));
}

/** Filters for listing jobs. */
export interface JobFilter {
  /** Which jobs the asker may see (src/jobs/access.ts); absent = all (internal callers only). */
  visible?: VisibilityFilter;
  requestedBy?: string;
  status?: JobStatus;
  kind?: string;
  limit?: number;
}

/** Newest jobs first, filtered. */
export async function listJobs(db: Database, f: JobFilter): Promise<Job[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.visible && !f.visible.all) where.push(visibilitySql(f.visible, params));
  if (f.requestedBy) {
    params.push(f.requestedBy);
    where.push(`requested_by = $${params.length}`);
  }
  if (f.status) {
    params.push(f.status);
    where.push(`status = $${params.length}`);
  }
  if (f.kind) {
    params.push(f.kind);
    where.push(`kind = $${params.length}`);
  }
  params.push(Math.min(200, Math.max(1, f.limit ?? 20)));
  const rows = await db.query<Record<string, unknown>>(
    `select * from jobs ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit $${params.length}`,
    params,
  );
  return rows.map(toJob);
}

/** Where an API caller follows a job (`GET /api/jobs/:id`, bearer token). */
export const jobStatusUrl = (config: { PUBLIC_URL: string }, id: number) => `${config.PUBLIC_URL}/api/jobs/${id}`;
