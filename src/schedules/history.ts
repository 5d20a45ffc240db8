import type { Database } from '../db/client';

/** One fire of a schedule and its run (if it ran). */
export interface ScheduleRun {
  fireAt: Date;
  outcome: string;
  reason: string;
  jobId: number | null;
  status: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  result: unknown;
}

/** Runs, success rate and average run time (the job's run_ms, as /stats counts it) of a schedule's finished runs. */
export interface ScheduleStats {
  runs: number;
  succeeded: number;
  failed: number;
  avgMs: number | null;
  missed: number;
  skipped: number;
}

const date = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

/** The newest fires of a schedule with their jobs: start, end, status, error, result. */
export async function scheduleHistory(db: Database, scheduleId: number, limit = 10): Promise<ScheduleRun[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select f.fire_at, f.outcome, f.reason, f.job_id, j.status, j.started_at, j.finished_at, j.error, j.result
       from schedule_fires f left join jobs j on j.id = f.job_id
      where f.schedule_id = $1
      order by f.fire_at desc limit $2`,
    [scheduleId, limit],
  );
  return rows.map((r) => ({
    fireAt: date(r.fire_at) as Date,
    outcome: String(r.outcome),
    reason: String(r.reason),
    jobId: r.job_id === null || r.job_id === undefined ? null : Number(r.job_id),
    status: (r.status as string | null) ?? null,
    startedAt: date(r.started_at),
    finishedAt: date(r.finished_at),
    error: (r.error as string | null) ?? null,
    result: typeof r.result === 'string' ? JSON.parse(r.result) : (r.result ?? null),
  }));
}

/** Counts over the schedule's recorded fires and finished runs. */
export async function scheduleStats(db: Database, scheduleId: number): Promise<ScheduleStats> {
  const [r] = await db.query<Record<string, unknown>>(
    `select count(j.id) filter (where j.finished_at is not null)::int as runs,
            count(*) filter (where j.status = 'succeeded')::int as succeeded,
            count(*) filter (where j.status = 'failed')::int as failed,
            avg(j.run_ms) filter (where j.finished_at is not null) as avg_ms,
            (select missed_count from schedules where id = $1) as missed,
            count(*) filter (where f.outcome = 'skipped')::int as skipped
       from schedule_fires f left join jobs j on j.id = f.job_id
      where f.schedule_id = $1`,
    [scheduleId],
  );
  return {
    runs: Number(r?.runs ?? 0),
    succeeded: Number(r?.succeeded ?? 0),
    failed: Number(r?.failed ?? 0),
    avgMs: r?.avg_ms === null || r?.avg_ms === undefined ? null : Number(r.avg_ms),
    missed: Number(r?.missed ?? 0),
    skipped: Number(r?.skipped ?? 0),
  };
}

/** Rows and a download link from a run's result, when the job kind reports them (exports do). */
export function resultFacts(result: unknown): { rows?: number; url?: string } {
  if (!result || typeof result !== 'object') return {};
  const r = result as Record<string, unknown>;
  const rows = [r.rows, r.rowsCount, r.rowCount, r.rows_count].find((x) => typeof x === 'number') as number | undefined;
  const file = (r.file && typeof r.file === 'object' ? r.file : {}) as Record<string, unknown>;
  const url = [r.downloadUrl, r.url, r.link, r.download_url, file.url].find((x) => typeof x === 'string') as string | undefined;
  return { rows, url };
}
