import type { Database } from '../db/client';
import type { JobStatus } from '../db/schema';
import { type VisibilityFilter, visibilitySql } from '../jobs/access';
import { PUSH_KIND, type PushPayload } from './push-job';

/** One past push, for /push history. */
export interface PushHistoryEntry {
  jobId: number;
  status: JobStatus;
  type: string;
  count: number;
  queue: string;
  confirmed: number;
  firstOrderNo: string | null;
  requestedBy: string | null;
  createdAt: Date;
  error: string | null;
}

/**
 * The newest pushes the viewer may see (the one visibility rule, src/jobs/access.ts), optionally
 * only one person's.
 */
export async function pushHistory(
  db: Database,
  opts: { limit: number; visible: VisibilityFilter; requestedBy?: string },
): Promise<PushHistoryEntry[]> {
  const params: unknown[] = [PUSH_KIND, opts.limit, opts.requestedBy ?? null];
  const visible = visibilitySql(opts.visible, params, 'j');
  const rows = await db.query<Record<string, unknown>>(
    `select j.id, j.status, j.payload, j.requested_by, j.created_at, j.error, r.confirmed, r.first_order_no
       from jobs j left join push_runs r on r.job_id = j.id
      where j.kind = $1 and ($3::text is null or j.requested_by = $3) and ${visible}
      order by j.id desc limit $2`,
    params,
  );
  return rows.map((r) => {
    const spec = (r.payload as PushPayload).spec;
    return {
      jobId: Number(r.id),
      status: r.status as JobStatus,
      type: spec.type,
      count: spec.count,
      queue: spec.queue,
      confirmed: Number(r.confirmed ?? 0),
      firstOrderNo: (r.first_order_no as string | null) ?? null,
      requestedBy: (r.requested_by as string | null) ?? null,
      createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
      error: (r.error as string | null) ?? null,
    };
  });
}
