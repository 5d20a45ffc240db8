import type { Database } from '../db/client';
import type { Metrics } from '../metrics/metrics';

/** Per-kind figures over a window of finished jobs. */
export interface KindStats {
  kind: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  successRate: number | null;
  avgSeconds: number | null;
  p95Seconds: number | null;
  perMinute: number;
}

/** Success rate, average and p95 duration, throughput per minute — per kind, over the last `hours`. */
export async function jobStats(db: Database, hours: number): Promise<KindStats[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select kind,
            count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status = 'failed')::int as failed,
            count(*) filter (where status = 'cancelled')::int as cancelled,
            avg(extract(epoch from finished_at - started_at)) filter (where started_at is not null)::float8 as avg_s,
            percentile_cont(0.95) within group (order by extract(epoch from finished_at - started_at))
              filter (where started_at is not null)::float8 as p95_s,
            count(*)::float8 / ($1::float8 * 60) as per_minute
       from jobs
      where finished_at >= now() - make_interval(hours => $1::int)
      group by kind order by kind`,
    [hours],
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
