import type { Database } from '../db/client';
import type { Metrics } from '../metrics/metrics';
import { type VisibilityFilter, visibilitySql } from './access';

/** Per-kind figures over a window of finished jobs. */
export interface KindStats {
  kind: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  successRate: number | null;
  avgSeconds: number | null;
  p95Seconds: number | null;
  /** Average first-start-to-finish time (queueing and waits between attempts included). */
  avgWallSeconds: number | null;
  perMinute: number;
}

/**
 * Success rate, average and p95 run time, throughput per minute — per kind, over the last `hours`,
 * over the jobs `visible` to the asker (src/jobs/access.ts). Durations are run time (summed over
 * attempts, idle time between them excluded); the average wall time (first start to finish) is
 * kept beside it.
 */
export async function jobStats(db: Database, hours: number, visible: VisibilityFilter = { all: true }): Promise<KindStats[]> {
  const params: unknown[] = [hours];
  const where = visibilitySql(visible, params);
  const rows = await db.query<Record<string, unknown>>(
    `select kind,
            count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status = 'failed')::int as failed,
            count(*) filter (where status = 'cancelled')::int as cancelled,
            avg(run_ms / 1000.0) filter (where attempts > 0)::float8 as avg_s,
            percentile_cont(0.95) within group (order by run_ms / 1000.0) filter (where attempts > 0)::float8 as p95_s,
            avg(extract(epoch from finished_at - started_at)) filter (where started_at is not null)::float8 as avg_wall_s,
            count(*)::float8 / ($1::float8 * 60) as per_minute
       from jobs
      where finished_at >= now() - make_interval(hours => $1::int) and ${where}
      group by kind order by kind`,
    params,
  );
  return rows.map((r) => {
    const succeeded = Number(r.succeeded);
    const failed = Number(r.failed);
    const done = succeeded + failed;
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      kind: String(r.kind),
      succeeded,
      failed,
      cancelled: Number(r.cancelled),
      successRate: done === 0 ? null : succeeded / done,
      avgSeconds: num(r.avg_s),
      p95Seconds: num(r.p95_s),
      avgWallSeconds: num(r.avg_wall_s),
      perMinute: Number(r.per_minute),
    };
  });
}

/** Register the job gauges (read from the database at scrape time, so they cover every instance). */
export function registerJobMetrics(metrics: Metrics, db: Database): void {
  metrics.gauge('jobs', 'Jobs in the table, by kind and status.', async () => {
    const rows = await db.query<{ kind: string; status: string; n: number }>(
      `select kind, status, count(*)::int as n from jobs group by kind, status`,
    );
    return rows.map((r) => ({ labels: { kind: r.kind, status: r.status }, value: Number(r.n) }));
  });
  metrics.gauge('queue_depth', 'Queued jobs ready to run now, by kind.', async () => {
    const rows = await db.query<{ kind: string; n: number }>(
      `select kind, count(*)::int as n from jobs where status = 'queued' and run_at <= now() group by kind`,
    );
    return rows.map((r) => ({ labels: { kind: r.kind }, value: Number(r.n) }));
  });
}
