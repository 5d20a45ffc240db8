import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import type { Histogram } from '../metrics/metrics';
import { type Attempt, startAttempt } from './attempt';
import { createClaimLoop } from './claim-loop';
import { releaseJobs } from './queue';
import type { Relay } from './relay';
import { startRunnerTimers } from './runner-timers';
import type { AnyJobDefinition } from './types';

export interface RunnerOptions {
  db: Database;
  log: Logger;
  definitions: AnyJobDefinition[];
  /** Default jobs at once per kind. */
  concurrency: number;
  leaseMs: number;
  pollIntervalMs: number;
  relay?: Relay;
  durations?: Histogram;
  workerId?: string;
  random?: () => number;
  /** The clock (ms since the epoch); tests inject one. */
  now?: () => number;
  /** How long a cancelled handler may take to notice before it is recorded as cancelled anyway. */
  cancelGraceMs?: number;
}

/** A job loop over the shared queue. Several runners (processes) may share one database. */
export interface Runner {
  readonly workerId: string;
  start(): Promise<void>;
  /** Stop claiming; let running jobs finish within `graceMs`, then abort and release them. */
  stop(graceMs: number): Promise<void>;
  /** Jobs whose handlers are running now. */
  activeCount(): number;
}

/**
 * Create a runner for the given job kinds (src/handlers.ts lists them): the claim loop
 * (claim-loop.ts) starts attempts (attempt.ts); the timers (runner-timers.ts) wake the loop, keep
 * leases and pass on cancel requests.
 */
export function createRunner(o: RunnerOptions): Runner {
  const workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = o.log.child({ component: 'runner', workerId });
  const now = o.now ?? Date.now;
  const defs = new Map(o.definitions.map((d) => [d.kind, d]));
  const active = new Map<number, Attempt>();
  let started = false;
  let stopping = false;
  let stopTimers: (() => Promise<void>) | undefined;

  const attemptDeps = {
    db: o.db,
    log,
    workerId,
    relay: o.relay,
    durations: o.durations,
    now,
    random: o.random ?? Math.random,
    cancelGraceMs: o.cancelGraceMs ?? 10_000,
  };
  const loop = createClaimLoop({
    db: o.db,
    log,
    workerId,
    definitions: o.definitions,
    concurrency: o.concurrency,
    leaseMs: o.leaseMs,
    now,
    launch(job) {
      const a = startAttempt(job, defs.get(job.kind) as AnyJobDefinition, attemptDeps, {
        freed(x) {
          active.delete(x.job.id);
          loop.slotFreed(x.job.kind);
        },
        succeeded(x, result, progressText) {
          loop.complete({ job: x.job, result, progressText });
        },
        retryScheduled(kind, delayMs) {
          setTimeout(() => loop.wake(kind), delayMs + 5).unref();
        },
      });
      if (!a.settled) active.set(job.id, a);
    },
    recorded(jobs) {
      const notify = jobs.filter((j) => j.replyTo).map((j) => j.id);
      if (notify.length) o.relay?.finished(notify);
    },
  });

  const safely = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      log.error({ err: errorMessage(err) }, `${what} failed`);
    }
  };

  return {
    workerId,
    async start() {
      if (started) return;
      started = true;
      stopTimers = await startRunnerTimers(
        { db: o.db, log, workerId, kinds: new Set(defs.keys()), leaseMs: o.leaseMs, pollIntervalMs: o.pollIntervalMs },
        {
          wake: (kind) => loop.wake(kind),
          held: () => [...active.keys()],
          leaseLost: (id) => active.get(id)?.leaseLost(),
          cancelRequested: (id) => active.get(id)?.requestCancel(),
          reapedFinal: (ids) => o.relay?.finished(ids),
        },
      );
      log.info({ kinds: [...defs.keys()], concurrency: o.concurrency }, 'runner started');
      loop.start();
    },
    async stop(graceMs) {
      if (!started || stopping) return;
      stopping = true;
      // Claimed ahead but not started: straight back to the queue.
      const notStarted = loop.stop().map((j) => j.id);
      await safely('release', () => releaseJobs(o.db, workerId, notStarted, 'shutdown: not started'));
      const deadline = now() + graceMs;
      while (active.size > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const left = [...active.values()];
      for (const a of left) a.abandon();
      await loop.flush();
      if (left.length) {
        const ids = left.map((a) => a.job.id);
        log.warn({ jobs: ids }, 'grace period over: releasing running jobs');
        await safely('release', () => releaseJobs(o.db, workerId, ids, 'shutdown: grace period over'));
      }
      await stopTimers?.();
      started = false;
      stopping = false;
      log.info('runner stopped');
    },
    activeCount: () => active.size,
  };
}
