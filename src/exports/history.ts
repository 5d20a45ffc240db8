import type { Database } from '../db/client';
import type { JobStatus } from '../db/schema';
import { type VisibilityFilter, visibilitySql } from '../jobs/access';

/** One export run as /export history shows it. */
export interface ExportRun {
  jobId: number;
  task: string;
  status: JobStatus;
  requestedBy: string | null;
  createdAt: Date;
  values: Record<string, unknown>;
  rows: number | null;
  size: number | null;
  durationMs: number | null;
  error: string | null;
  file: { id: number; name: string; expiresAt: Date; removed: boolean } | null;
}

/** The latest export runs the viewer may see, optionally of one task. */
export async function exportHistory(db: Database, f: VisibilityFilter, opts: { task?: string; limit: number }): Promise<ExportRun[]> {
  const params: unknown[] = [];
  const where = [`j.kind = 'sql_export'`, visibilitySql(f, params, 'j')];
  if (opts.task) {
    params.push(opts.task);
    where.push(`j.payload->>'task' = $${params.length}`);
  }
  params.push(opts.limit);
  const rows = await db.query<Record<string, unknown>>(
    `select j.id, j.status, j.requested_by, j.created_at, j.payload, j.result, j.error,
            f.id as file_id, f.name as file_name, f.expires_at, f.removed_at
       from jobs j left join lateral (select * from files where files.job_id = j.id order by id desc limit 1) f on true
      where ${where.join(' and ')}
      order by j.id desc limit $${params.length}`,
    params,
  );
  return rows.map((r) => {
    const payload = (r.payload ?? {}) as { task?: string; values?: Record<string, unknown> };
    const result = (r.result ?? null) as { rows?: number; size?: number; durationMs?: number } | null;
    return {
      jobId: Number(r.id),
      task: String(payload.task ?? '?'),
      status: r.status as JobStatus,
      requestedBy: (r.requested_by as string) ?? null,
      createdAt: new Date(r.created_at as Date),
      values: payload.values ?? {},
      rows: result?.rows ?? null,
      size: result?.size ?? null,
      durationMs: result?.durationMs ?? null,
      error: (r.error as string) ?? null,
      file: r.file_id
        ? { id: Number(r.file_id), name: String(r.file_name), expiresAt: new Date(r.expires_at as Date), removed: Boolean(r.removed_at) }
        : null,
    };
  });
}
