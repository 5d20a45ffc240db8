import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import { backoffDelay } from '../lib/backoff';
import type { Histogram } from '../metrics/metrics';
import {
  addEvent,
  CHANNEL_CANCEL,
  CHANNEL_NEW,
  type ClaimCursor,
  exchangeJobs,
  failJob,
  heartbeat,
  reapExpired,
  releaseJobs,
  saveProgress,
} from './queue';
import type { Relay } from './relay';
import { DEFAULT_RETRY, isRetryable, type RetryPolicy } from './retry';
import type { AnyJobDefinition, Job, JobHelpers } from './types';

/** Why a job's signal aborted. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}
export class ShutdownError extends Error {
  override name = 'ShutdownError';
}

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

interface Active {
  job: Job;
  def: AnyJobDefinition;
  /** Why the attempt was aborted (cancel, timeout, lost lease, shutdown), once it was. */
  abortReason?: Error;
  /** Made when the handler first reads `signal` (AbortController is costly; no-op jobs never need one). */
  controller?: AbortController;
  timers: NodeJS.Timeout[];
  settled: boolean;
  lastSavedAt: number;
  saveTimer?: NodeJS.Timeout;
  pendingProgress?: { pct: number; text?: string };
}

// Statements in flight at once per runner: while one waits on Postgres the next is prepared and
// sent, so both cores stay busy.
const LANES = 2;

/** Create a runner for the given job kinds (src/handlers.ts lists them). */
export function createRunner(o: RunnerOptions): Runner {
  const workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = o.log.child({ component: 'runner', workerId });
  const defs = new Map(o.definitions.map((d) => [d.kind, d]));
  const random = o.random ?? Math.random;
  const cancelGraceMs = o.cancelGraceMs ?? 10_000;

  const active = new Map<number, Active>();
  const buffer = new Map<string, Job[]>(); // claimed ahead of a free slot
  const runningByKind = new Map<string, number>();
  const pending: { id: number; result: unknown; job: Job; progressText?: string }[] = [];
  const requested = new Map<string, number>(); // jobs asked for by exchanges in flight, per kind

  let started = false;
  let stopping = false;
  let inflight = 0;
  let cycleQueued = false;
  let pausedUntil = 0;
  const drained: (() => void)[] = [];
  // Per kind: might ready jobs be waiting? (Last claim got all it asked for, or a NOTIFY/poll said so.)
  const more = new Map<string, boolean>([...defs.keys()].map((k) => [k, true]));
  // Per kind: where the last full claim ended. New or requeued jobs may sort before it, so any
  // wake-up (NOTIFY, poll, release) clears it and the next claim starts from the head again.
  const cursors = new Map<string, ClaimCursor>();
  // Bumped by every wake-up: a claim that was already in flight (its snapshot older than the news)
  // must not mark the kind as drained.
  const generation = new Map<string, number>();
  const bump = (k: string) => {
    more.set(k, true);
    cursors.delete(k);
    generation.set(k, (generation.get(k) ?? 0) + 1);
  };
  const markMore = (kind?: string) => {
    if (kind === undefined) for (const k of defs.keys()) bump(k);
    else if (defs.has(kind)) bump(kind);
  };
  const intervals: NodeJS.Timeout[] = [];
  const unlisteners: (() => Promise<void>)[] = [];

  const limit = (kind: string) => defs.get(kind)?.concurrency ?? o.concurrency;
  const running = (kind: string) => runningByKind.get(kind) ?? 0;
  const buffered = (kind: string) => buffer.get(kind)?.length ?? 0;

  /** Ask for another exchange round soon (batched: many completions share one statement). */
  function tick(): void {
    if (cycleQueued || !started) return;
    cycleQueued = true;
    setImmediate(() => {
      cycleQueued = false;
      cycle();
    });
  }

  let rotation = 0;
  function nextWant(): { kind: string; n: number; after?: ClaimCursor } | null {
    if (stopping) return null;
    const kinds = [...defs.keys()];
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(rotation + i) % kinds.length] as string;
      if (!more.get(kind)) continue;
      const def = defs.get(kind) as AnyJobDefinition;
      const capacity = limit(kind) + (def.prefetch ?? 0);
      const free = capacity - running(kind) - buffered(kind) - (requested.get(kind) ?? 0);
      // Split the capacity between lanes so every statement in flight can both complete and claim.
      const n = Math.min(free, Math.ceil(capacity / LANES));
      if (n > 0) {
        rotation = (rotation + i + 1) % kinds.length;
        return { kind, n, after: cursors.get(kind) };
      }
    }
    return null;
  }

  /**
   * Up to LANES statements in flight, each recording the completions gathered so far and claiming
   * for one kind with free slots: one round trip per batch instead of two.
   */
  function cycle(): void {
    if (!started) return;
    if (Date.now() < pausedUntil) return;
    while (inflight < LANES) {
      const want = nextWant();
      const batch = pending.splice(0, 1000);
      if (!want && batch.length === 0) break;
      inflight += 1;
      const gen = want ? (generation.get(want.kind) ?? 0) : 0;
      if (want) requested.set(want.kind, (requested.get(want.kind) ?? 0) + want.n);
      exchangeJobs(
        o.db,
        workerId,
        batch.map((b) => ({ id: b.id, result: b.result, progressText: b.progressText })),
        want,
        o.leaseMs,
      )
        .then(({ completed, claimed, cursor }) => {
          if (completed.length < batch.length) {
            const ok = new Set(completed);
            log.warn(
              { lost: batch.filter((b) => !ok.has(b.id)).map((b) => b.id) },
              'lease lost before completion was recorded; another runner has these jobs',
            );
          }
          if (o.relay) {
            const ok = new Set(completed);
            const notify = batch.filter((b) => b.job.replyTo && ok.has(b.id)).map((b) => b.id);
            if (notify.length) o.relay.finished(notify);
          }
          if (want) {
            const full = claimed.length >= want.n;
            if ((generation.get(want.kind) ?? 0) === gen) {
              more.set(want.kind, full);
              if (full && cursor) cursors.set(want.kind, cursor);
              else cursors.delete(want.kind);
            }
            for (const job of claimed) {
              const list = buffer.get(job.kind) ?? [];
              list.push(job);
              buffer.set(job.kind, list);
            }
          }
          pump();
        })
        .catch((err) => {
          log.error({ err: errorMessage(err) }, 'job loop statement failed; retrying shortly');
          pending.unshift(...batch);
          if (want) {
            more.set(want.kind, true);
            cursors.delete(want.kind);
          }
          pausedUntil = Date.now() + 1000;
          setTimeout(tick, 1000).unref();
        })
        .finally(() => {
          inflight -= 1;
          if (want) requested.set(want.kind, (requested.get(want.kind) ?? 0) - want.n);
          if (inflight === 0 && pending.length === 0) for (const d of drained.splice(0)) d();
          tick();
        });
    }
  }

  /** Resolves when every completion so far is recorded. */
  function flush(): Promise<void> {
    if (inflight === 0 && pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      drained.push(resolve);
      tick();
    });
  }

  function pump(only?: string): void {
    if (stopping) return;
    for (const [kind, list] of buffer) {
      if (only !== undefined && kind !== only) continue;
      while (list.length > 0 && running(kind) < limit(kind)) start(list.shift() as Job);
    }
  }

  function start(job: Job): void {
    const def = defs.get(job.kind) as AnyJobDefinition;
    const a: Active = { job, def, timers: [], settled: false, lastSavedAt: 0 };
    active.set(job.id, a);
    runningByKind.set(job.kind, running(job.kind) + 1);
    let jobLog: Logger | undefined;
    const logFor = () => (jobLog ??= log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts }));
    const soft = job.softTimeoutMs ?? def.softTimeoutMs;
    const hard = job.hardTimeoutMs ?? def.hardTimeoutMs;
    if (soft) {
      a.timers.push(
        setTimeout(() => {
          logFor().warn({ softTimeoutMs: soft }, 'job passed its soft timeout');
          addEvent(o.db, job.id, 'soft_timeout', `still running after ${soft} ms`).catch(() => {});
          o.relay?.softTimeout(job, soft);
        }, soft),
      );
    }
    if (hard) {
      a.timers.push(
        setTimeout(() => {
          const err = new JobTimeoutError(`hard timeout: still running after ${hard} ms`);
          abort(a, err);
          // Do not wait for a handler that ignores its signal: the attempt ends now and the slot frees.
          settle(a, { ok: false, err });
        }, hard),
      );
    }
    if (job.cancelRequested) abort(a, new JobCancelledError('cancelled'));
    // The scoped logger is made on first use: most no-op jobs never log.
    const helpers: JobHelpers = {
      job,
      get log() {
        return logFor();
      },
      get signal() {
        if (!a.controller) {
          a.controller = new AbortController();
          if (a.abortReason) a.controller.abort(a.abortReason);
        }
        return a.controller.signal;
      },
      db: o.db,
      progress: (pct, text) => onProgress(a, pct, text),
    };
    let work: Promise<unknown>;
    try {
      work = def.run(job.payload, helpers);
    } catch (err) {
      work = Promise.reject(err);
    }
    work.then(
      (result) => settle(a, { ok: true, result }),
      (err) => settle(a, { ok: false, err }),
    );
  }

  function abort(a: Active, reason: Error): void {
    if (a.abortReason) return;
    a.abortReason = reason;
    a.controller?.abort(reason);
  }

  function onProgress(a: Active, pct: number, text?: string): void {
    if (a.settled) return;
    const clamped = Math.max(0, Math.min(100, pct));
    a.job.progress = clamped;
    a.job.progressText = text ?? null;
    o.relay?.progress(a.job, clamped, text);
    // Store at most once a second per job; the latest value always lands.
    a.pendingProgress = { pct: clamped, text };
    if (a.saveTimer) return;
    const wait = Math.max(0, a.lastSavedAt + 1000 - Date.now());
    a.saveTimer = setTimeout(() => {
      a.saveTimer = undefined;
      const p = a.pendingProgress;
      if (!p || a.settled) return;
      a.lastSavedAt = Date.now();
      saveProgress(o.db, a.job.id, p.pct, p.text).catch((err) => log.warn({ err: errorMessage(err) }, 'progress not saved'));
    }, wait);
  }

  function freeSlot(a: Active): void {
    for (const t of a.timers) clearTimeout(t);
    clearTimeout(a.saveTimer);
    active.delete(a.job.id);
    runningByKind.set(a.job.kind, Math.max(0, running(a.job.kind) - 1));
    pump(a.job.kind);
    if (more.get(a.job.kind)) tick();
  }

  function settle(a: Active, outcome: { ok: true; result: unknown } | { ok: false; err: unknown }): void {
    if (a.settled) return;
    a.settled = true;
    freeSlot(a);
    const reason = a.abortReason;
    if (reason instanceof ShutdownError || reason instanceof LeaseLostError) return; // released / owned by another runner now
    const ms = Date.now() - (a.job.attemptStartedAt?.getTime() ?? Date.now());
    if (outcome.ok) {
      // The last progress text lands with the completion (its throttled save may not have run).
      pending.push({ id: a.job.id, result: outcome.result, job: a.job, progressText: a.pendingProgress?.text });
      o.durations?.observe({ kind: a.job.kind, status: 'succeeded' }, ms / 1000);
      tick();
      return;
    }
    void finishFailed(a, outcome.err, ms);
  }

  async function finishFailed(a: Active, err: unknown, ms: number): Promise<void> {
    const { job, def } = a;
    const reason = a.abortReason;
    const cancelled = reason instanceof JobCancelledError;
    const message = cancelled ? 'cancelled' : reason instanceof JobTimeoutError ? reason.message : errorMessage(err);
    const policy: RetryPolicy = { ...DEFAULT_RETRY, ...def.retry };
    const retry = !cancelled && job.attempts < job.maxAttempts && isRetryable(err, policy);
    const delay = retry ? backoffDelay(policy, job.attempts, random()) : 0;
    try {
      const status = await failJob(o.db, workerId, job.id, message, retry ? new Date(Date.now() + delay) : null, cancelled);
      if (status === null) return log.warn({ jobId: job.id }, 'lease lost before the failure was recorded');
      o.durations?.observe({ kind: job.kind, status }, ms / 1000);
      await addEvent(o.db, job.id, cancelled ? 'cancelled' : 'attempt_failed', message, {
        attempt: job.attempts,
        of: job.maxAttempts,
        ...(retry ? { retryInMs: delay } : {}),
      });
      if (status === 'queued') {
        log.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, delayMs: delay, err: message }, 'attempt failed; retrying');
        o.relay?.retrying(job, message, delay);
        const timer = setTimeout(() => {
          markMore(job.kind);
          tick();
        }, delay + 5);
        timer.unref();
      } else {
        log.warn({ jobId: job.id, kind: job.kind, status, err: message }, 'job ended');
        o.relay?.finished([job.id]);
      }
    } catch (e) {
      // The lease will expire and the reaper will requeue it: nothing is lost.
      log.error({ jobId: job.id, err: errorMessage(e) }, 'could not record a failed attempt');
    }
  }

  async function beat(): Promise<void> {
    const rows = await heartbeat(o.db, workerId, o.leaseMs);
    const held = new Map(rows.map((r) => [r.id, r.cancelRequested]));
    for (const a of active.values()) {
      if (a.settled) continue;
      const cancel = held.get(a.job.id);
      if (cancel === undefined) {
        log.warn({ jobId: a.job.id }, 'lease lost; aborting the handler');
        abort(a, new LeaseLostError('lease lost'));
        settle(a, { ok: false, err: a.abortReason });
      } else if (cancel) requestCancel(a);
    }
  }

  function requestCancel(a: Active): void {
    if (a.settled || a.abortReason) return;
    abort(a, new JobCancelledError('cancelled'));
    // A handler that ignores its signal still ends as cancelled.
    a.timers.push(setTimeout(() => settle(a, { ok: false, err: new JobCancelledError('cancelled') }), cancelGraceMs));
  }

  async function safely(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      log.error({ err: errorMessage(err) }, `${what} failed`);
    }
  }

  return {
    workerId,
    async start() {
      if (started) return;
      started = true;
      unlisteners.push(
        await o.db.listen(CHANNEL_NEW, (kind) => {
          // The payload is a kind for new jobs; 'released'/'reaped' may concern any kind.
          if (defs.has(kind)) markMore(kind);
          else if (kind === 'released' || kind === 'reaped') markMore();
          else return;
          tick();
        }),
      );
      unlisteners.push(
        await o.db.listen(CHANNEL_CANCEL, (id) => {
          const a = active.get(Number(id));
          if (a) requestCancel(a);
        }),
      );
      intervals.push(
        setInterval(() => {
          markMore();
          tick();
        }, o.pollIntervalMs),
        setInterval(() => void safely('heartbeat', beat), Math.max(500, Math.floor(o.leaseMs / 3))),
        setInterval(
          () =>
            void safely('reaper', async () => {
              const reaped = await reapExpired(o.db);
              if (reaped.length === 0) return;
              log.warn({ jobs: reaped }, 'took back jobs whose worker was lost');
              const final = reaped.filter((r) => r.status !== 'queued').map((r) => r.id);
              if (final.length) o.relay?.finished(final);
              markMore();
              tick();
            }),
          Math.max(500, Math.floor(o.leaseMs / 2)),
        ),
      );
      for (const i of intervals) i.unref();
      await safely('reaper', () => reapExpired(o.db));
      log.info({ kinds: [...defs.keys()], concurrency: o.concurrency }, 'runner started');
      tick();
    },
    async stop(graceMs) {
      if (!started || stopping) return;
      stopping = true;
      // Claimed ahead but not started: straight back to the queue.
      const notStarted = [...buffer.values()].flat().map((j) => j.id);
      buffer.clear();
      await safely('release', () => releaseJobs(o.db, workerId, notStarted, 'shutdown: not started'));
      const deadline = Date.now() + graceMs;
      while (active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const left = [...active.values()];
      for (const a of left) {
        abort(a, new ShutdownError('shutting down'));
        a.settled = true;
        freeSlot(a);
      }
      await flush();
      if (left.length) {
        log.warn({ jobs: left.map((a) => a.job.id) }, 'grace period over: releasing running jobs');
        await safely('release', () =>
          releaseJobs(
            o.db,
            workerId,
            left.map((a) => a.job.id),
            'shutdown: grace period over',
          ),
        );
      }
      for (const i of intervals) clearInterval(i);
      for (const u of unlisteners) await safely('unlisten', u);
      started = false;
      log.info('runner stopped');
    },
    activeCount: () => active.size,
  };
}
