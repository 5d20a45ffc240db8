import type { Logger } from 'pino';
import { idArray } from '../db/batch';
import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import type { Translator } from '../i18n';
import type { ReplyOrder } from '../lib/reply-order';
import type { Notifier, OutMessage } from '../outbound';
import { describeJobError, type JobErrorInfo } from './job-error';
import { progressBar, shouldPostProgress, type ThrottleState } from './progress-throttle';
import { toJob } from './queue';
import { kindLabel, renderFinal } from './render';
import type { AnyJobDefinition, Job } from './types';

/** Posts job progress and results to the conversation a job came from. */
export interface Relay {
  progress(job: Job, pct: number, text?: string): void;
  softTimeout(job: Job, ms: number): void;
  /** A failed attempt will be retried: say why (catalog text or a log reference, never the raw error). */
  retrying(job: Job, error: JobErrorInfo, delayMs: number): void;
  /** Deliver the final message of these finished jobs (once each, retried by `sweep` if it fails). */
  finished(ids: number[]): void;
  /** Retry final messages that could not be delivered. */
  sweep(): Promise<void>;
  /** Wait for deliveries in flight (tests, shutdown). */
  idle(): Promise<void>;
}

export interface RelayOptions {
  db: Database;
  notifier: Notifier;
  t: Translator;
  log: Logger;
  definitions: AnyJobDefinition[];
  /** At most one progress message per job this often. */
  intervalMs: number;
  /** …and only when progress moved by this many points. */
  minStep?: number;
  now?: () => number;
  /** Messages about a job wait for the reply that announced it (src/lib/reply-order.ts). */
  replyOrder?: ReplyOrder;
}

const MAX_NOTIFY_ATTEMPTS = 8;

/** The relay between the job loop and chat; talks to chat only through the Notifier port. */
export function createRelay(o: RelayOptions): Relay {
  const now = o.now ?? Date.now;
  const defs = new Map(o.definitions.map((d) => [d.kind, d]));
  const throttle = new Map<number, ThrottleState>();
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.finally(() => inflight.delete(q));
    inflight.add(q);
  };

  // Messages of one job go out one after another, so chat shows them in order (final last).
  const chains = new Map<number, Promise<unknown>>();
  const inOrder = <T>(jobId: number, fn: () => Promise<T>): Promise<T> => {
    const prev = chains.get(jobId) ?? o.replyOrder?.after(jobId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    chains.set(jobId, tail);
    void tail.then(() => {
      if (chains.get(jobId) === tail) chains.delete(jobId);
    });
    return next;
  };

  const send = (job: Job, message: OutMessage, what: string) => {
    const target = job.replyTo;
    if (!target) return;
    track(
      inOrder(job.id, () => o.notifier.send(target, message)).catch((err) =>
        o.log.warn({ jobId: job.id, err: errorMessage(err) }, `${what} not delivered`),
      ),
    );
  };

  async function deliver(claimSql: string, params: unknown[]): Promise<void> {
    const rows = await o.db.query<Record<string, unknown>>(claimSql, params);
    for (const row of rows) {
      const job = toJob(row);
      throttle.delete(job.id);
      if (!job.replyTo) continue;
      const message = renderFinal(job, o.t, defs.get(job.kind));
      const target = job.replyTo;
      try {
        await inOrder(job.id, () => o.notifier.send(target, message));
        await o.db.query(`update jobs set notified_at = now(), notify_next_at = null where id = $1`, [job.id]);
      } catch (err) {
        const attempts = Number(row.notify_attempts);
        if (attempts >= MAX_NOTIFY_ATTEMPTS) {
          o.log.error({ jobId: job.id, attempts, err: errorMessage(err) }, 'final message could not be delivered; giving up');
          await o.db.query(`update jobs set notify_next_at = null where id = $1`, [job.id]).catch(() => {});
        } else {
          o.log.warn({ jobId: job.id, attempts, err: errorMessage(err) }, 'final message not delivered; will retry');
        }
      }
    }
  }

  // Claiming (notify_next_at pushed forward) before sending keeps two instances from both sending.
  const CLAIM = `update jobs set notify_attempts = notify_attempts + 1,
        notify_next_at = now() + make_interval(secs => 30 * power(2, least(notify_attempts, 6)))
      where id in (
        select id from jobs
         where notify_next_at <= now() %s
         order by notify_next_at limit 50 for update skip locked)
      returning *`;

  return {
    progress(job, pct, text) {
      if (!job.replyTo || o.intervalMs < 0) return;
      const state = throttle.get(job.id) ?? {};
      const t = now();
      const startedAt = job.attemptStartedAt?.getTime() ?? t;
      if (!shouldPostProgress(state, pct, t, { intervalMs: o.intervalMs, minStep: o.minStep ?? 5, startedAt })) return;
      throttle.set(job.id, { lastAt: t, lastPct: pct });
      const line = o.t('job.progress', { id: job.id, kind: kindLabel(o.t, job.kind), bar: progressBar(pct), text: text ?? '' });
      send(job, { type: 'text', text: line.trim() }, 'progress');
    },
    softTimeout(job, ms) {
      send(
        job,
        { type: 'text', text: o.t('job.softTimeout', { id: job.id, kind: kindLabel(o.t, job.kind), minutes: (ms / 60_000).toFixed(1) }) },
        'soft-timeout notice',
      );
    },
    retrying(job, error, delayMs) {
      send(
        job,
        {
          type: 'text',
          text: o.t('job.retrying', {
            id: job.id,
            kind: kindLabel(o.t, job.kind),
            attempt: job.attempts,
            max: job.maxAttempts,
            seconds: Math.max(1, Math.round(delayMs / 1000)),
            error: describeJobError(error, o.t, job.id),
          }),
        },
        'retry notice',
      );
    },
    finished(ids) {
      if (ids.length === 0) return;
      track(
        deliver(CLAIM.replace('%s', 'and id = any($1::bigint[])'), [idArray(ids)]).catch((err) =>
          o.log.warn({ err: errorMessage(err) }, 'final messages not claimed'),
        ),
      );
    },
    async sweep() {
      await deliver(CLAIM.replace('%s', ''), []);
    },
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}
