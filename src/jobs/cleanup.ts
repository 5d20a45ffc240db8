import type { Translator } from '../i18n';
import { defineJob, type JobHelpers } from './types';

/** Payload of the retention clean-up job. */
export interface CleanupPayload {
  olderThanDays: number;
}

export interface CleanupResult {
  jobs: number;
  events: number;
  inbound: number;
  /** Counts of the extra steps, by step name. */
  extra?: Record<string, number>;
}

/**
 * Something a domain module cleans up with the jobs (expired files…), given to createCleanupJob in
 * src/handlers.ts so this module stays free of domain imports.
 */
export interface CleanupStep {
  name: string;
  run(payload: CleanupPayload, helpers: JobHelpers): Promise<number>;
  /** A line for the final message when the step removed something. */
  describe(count: number, t: Translator): string;
}

const BATCH = 1000;

/**
 * Remove finished jobs with their events, inbound-log rows older than the retention period, and
 * rate-limit windows older than an hour, in batches so it never holds long locks. Started by the
 * built-in `retention-cleanup` schedule (src/schedules/builtin.ts: hourly, one job per fire across
 * instances) and on demand by /cleanup.
 */
export const cleanupJob = createCleanupJob();

/** The clean-up job with extra steps (domain clean-ups) run after the jobs' own. */
export function createCleanupJob(steps: CleanupStep[] = []) {
  return defineJob<CleanupPayload, CleanupResult>({
    kind: 'jobs_cleanup',
    concurrency: 1,
    maxAttempts: 3,
    hardTimeoutMs: 30 * 60_000,
    async run(payload, helpers) {
      const { olderThanDays } = payload;
      const { db, progress, signal } = helpers;
      const days = Math.max(1, Math.floor(olderThanDays));
      const [{ n: total = 0 } = {}] = await db.query<{ n: number }>(
        `select count(*)::int as n from jobs where finished_at < now() - make_interval(days => $1)`,
        [days],
      );
      const result: CleanupResult = { jobs: 0, events: 0, inbound: 0 };
      for (;;) {
        signal.throwIfAborted();
        const [r] = await db.query<{ jobs: number; events: number }>(
          `with d as (
           delete from jobs where id in (
             select id from jobs where finished_at < now() - make_interval(days => $1) limit ${BATCH})
           returning id),
         e as (delete from job_events where job_id in (select id from d) returning 1)
         select (select count(*) from d)::int as jobs, (select count(*) from e)::int as events`,
          [days],
        );
        result.jobs += Number(r?.jobs ?? 0);
        result.events += Number(r?.events ?? 0);
        if (Number(r?.jobs ?? 0) < BATCH) break;
        progress(total ? Math.min(99, (result.jobs / total) * 100) : 50, `${result.jobs}/${total}`);
      }
      // The inbound log (the msgId dedupe keys) past retention.
      for (;;) {
        signal.throwIfAborted();
        const [r] = await db.query<{ n: number }>(
          `with d as (delete from inbound_messages where id in (
            select id from inbound_messages where created_at < now() - make_interval(days => $1) limit ${BATCH}) returning 1)
         select count(*)::int as n from d`,
          [days],
        );
        result.inbound += Number(r?.n ?? 0);
        if (Number(r?.n ?? 0) < BATCH) break;
      }
      await db.query(`delete from rate_limits where window_start < now() - interval '1 hour'`);
      for (const step of steps) {
        result.extra = { ...result.extra, [step.name]: await step.run(payload, helpers) };
      }
      return result;
    },
    describe: (r, t) =>
      [
        t('job.cleanup.done', { jobs: r.jobs, events: r.events, inbound: r.inbound }),
        ...steps.filter((s) => (r.extra?.[s.name] ?? 0) > 0).map((s) => s.describe(r.extra?.[s.name] ?? 0, t)),
      ].join('\n'),
  });
}
