import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import { backoffDelay } from '../lib/backoff';
import type { Histogram } from '../metrics/metrics';
import { classifyJobError, JobCancelledError, JobTimeoutError, LeaseLostError, rawJobError, ShutdownError } from './job-error';
import { addEvent, failJob, saveProgress } from './queue';
import type { Relay } from './relay';
import { DEFAULT_RETRY, isRetryable, type RetryPolicy } from './retry';
import type { AnyJobDefinition, Job, JobHelpers } from './types';

/** What one attempt needs from its runner. */
export interface AttemptDeps {
  db: Database;
  /** The runner's logger; the attempt scopes it to { jobId, kind, attempt }. */
  log: Logger;
  workerId: string;
  relay?: Relay;
  durations?: Histogram;
  now: () => number;
  random: () => number;
  /** How long a cancelled handler may take to notice before it is recorded as cancelled anyway. */
  cancelGraceMs: number;
  /** A short reference for an unknown error, logged with the raw text and shown in chat. */
  newRef?: () => string;
}

/** What the attempt tells its runner. */
export interface AttemptHooks {
  /** The handler's slot is free (it settled, or the attempt was ended without it). Called once. */
  freed(a: Attempt): void;
  /** The handler succeeded: record `result` with the next exchange. */
  succeeded(a: Attempt, result: unknown, progressText: string | undefined): void;
  /** The attempt failed and the job was requeued to run after `delayMs`. */
  retryScheduled(kind: string, delayMs: number): void;
}

/** One attempt of one job, from claim to its recorded end. */
export interface Attempt {
  readonly job: Job;
  /** True once the attempt ended (the slot is free). */
  readonly settled: boolean;
  /** Abort the handler because another runner owns the job now; nothing is recorded. */
  leaseLost(): void;
  /** Abort the handler for a cancel request; recorded as cancelled even if it ignores the signal. */
  requestCancel(): void;
  /** End the attempt for shutdown without recording anything (the runner releases the job). */
  abandon(): void;
}

const PROGRESS_SAVE_MS = 1000;

/**
 * Start one attempt: run the handler with its helpers, arm the soft and hard timeouts, throttle
 * progress saves, and record the outcome — success through `hooks.succeeded` (batched by the claim
 * loop), failure here (requeue with backoff, or fail/cancel for good).
 */
export function startAttempt(job: Job, def: AnyJobDefinition, deps: AttemptDeps, hooks: AttemptHooks): Attempt {
  const { db, relay } = deps;
  const timers: NodeJS.Timeout[] = [];
  let settled = false;
  let abortReason: Error | undefined;
  // Made when the handler first reads `signal` (AbortController is costly; no-op jobs never need one).
  let controller: AbortController | undefined;
  let lastSavedAt = 0;
  let saveTimer: NodeJS.Timeout | undefined;
  let pendingProgress: { pct: number; text?: string } | undefined;
  // The scoped logger is made on first use: most no-op jobs never log.
  let jobLog: Logger | undefined;
  const log = () => (jobLog ??= deps.log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts }));

  const abort = (reason: Error) => {
    if (abortReason) return;
    abortReason = reason;
    controller?.abort(reason);
  };

  const free = () => {
    settled = true;
    for (const t of timers) clearTimeout(t);
    clearTimeout(saveTimer);
    hooks.freed(attempt);
  };

  const settle = (outcome: { ok: true; result: unknown } | { ok: false; err: unknown }) => {
    if (settled) return;
    free();
    if (abortReason instanceof ShutdownError || abortReason instanceof LeaseLostError) return; // released / another runner's now
    const ms = deps.now() - (job.attemptStartedAt?.getTime() ?? deps.now());
    if (outcome.ok) {
      // The last progress text lands with the completion (its throttled save may not have run).
      hooks.succeeded(attempt, outcome.result, pendingProgress?.text);
      deps.durations?.observe({ kind: job.kind, status: 'succeeded' }, ms / 1000);
      return;
    }
    void recordFailure(outcome.err, ms);
  };

  async function recordFailure(err: unknown, ms: number): Promise<void> {
    const reason = abortReason;
    const cancelled = reason instanceof JobCancelledError;
    const message = rawJobError(err, reason);
    const ref = (deps.newRef ?? (() => randomBytes(3).toString('hex')))();
    const info = classifyJobError(err, reason, ref);
    const policy: RetryPolicy = { ...DEFAULT_RETRY, ...def.retry };
    const retry = !cancelled && job.attempts < job.maxAttempts && isRetryable(err, policy);
    const delay = retry ? backoffDelay(policy, job.attempts, deps.random()) : 0;
    try {
      const retryAt = retry ? new Date(deps.now() + delay) : null;
      const status = await failJob(db, deps.workerId, job.id, message, retryAt, cancelled, info, job.progressText, {
        attempt: job.attempts,
        of: job.maxAttempts,
        error: info,
        ...(retry ? { retryInMs: delay } : {}),
      });
      if (status === null) return log().warn('lease lost before the failure was recorded');
      deps.durations?.observe({ kind: job.kind, status }, ms / 1000);
      // The ref in chat points here: the raw error (and its stack) is in this log line.
      const fields = { status, ref: info.code === 'unknown' ? info.ref : undefined, err: message, stack: (err as Error)?.stack };
      if (status === 'queued') {
        log().warn({ ...fields, delayMs: delay }, 'attempt failed; retrying');
        relay?.retrying(job, info, delay);
        hooks.retryScheduled(job.kind, delay);
      } else {
        log().warn(fields, 'job ended');
        relay?.finished([job.id]);
      }
    } catch (e) {
      // The lease will expire and the reaper will requeue it: nothing is lost.
      log().error({ err: errorMessage(e) }, 'could not record a failed attempt');
    }
  }

  const onProgress = (pct: number, text?: string) => {
    if (settled) return;
    const clamped = Math.max(0, Math.min(100, pct));
    job.progress = clamped;
    job.progressText = text ?? null;
    relay?.progress(job, clamped, text);
    // Store at most once a second per job; the latest value always lands.
    pendingProgress = { pct: clamped, text };
    if (saveTimer) return;
    saveTimer = setTimeout(
      () => {
        saveTimer = undefined;
        const p = pendingProgress;
        if (!p || settled) return;
        lastSavedAt = deps.now();
        saveProgress(db, job.id, p.pct, p.text).catch((err) => log().warn({ err: errorMessage(err) }, 'progress not saved'));
      },
      Math.max(0, lastSavedAt + PROGRESS_SAVE_MS - deps.now()),
    );
  };

  const attempt: Attempt = {
    job,
    get settled() {
      return settled;
    },
    leaseLost() {
      if (settled) return;
      log().warn('lease lost; aborting the handler');
      abort(new LeaseLostError('lease lost'));
      settle({ ok: false, err: abortReason });
    },
    requestCancel() {
      if (settled || abortReason) return;
      abort(new JobCancelledError('cancelled'));
      // A handler that ignores its signal still ends as cancelled.
      timers.push(setTimeout(() => settle({ ok: false, err: new JobCancelledError('cancelled') }), deps.cancelGraceMs));
    },
    abandon() {
      if (settled) return;
      abort(new ShutdownError('shutting down'));
      free();
    },
  };

  const soft = job.softTimeoutMs ?? def.softTimeoutMs;
  const hard = job.hardTimeoutMs ?? def.hardTimeoutMs;
  if (soft) {
    timers.push(
      setTimeout(() => {
        log().warn({ softTimeoutMs: soft }, 'job passed its soft timeout');
        addEvent(db, job.id, 'soft_timeout', `still running after ${soft} ms`, { ms: soft }).catch(() => {});
        relay?.softTimeout(job, soft);
      }, soft),
    );
  }
  if (hard) {
    timers.push(
      setTimeout(() => {
        const err = new JobTimeoutError(hard);
        abort(err);
        // Do not wait for a handler that ignores its signal: the attempt ends now and the slot frees.
        settle({ ok: false, err });
      }, hard),
    );
  }
  if (job.cancelRequested) abort(new JobCancelledError('cancelled'));

  const helpers: JobHelpers = {
    job,
    get log() {
      return log();
    },
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (abortReason) controller.abort(abortReason);
      }
      return controller.signal;
    },
    db,
    progress: onProgress,
  };
  let work: Promise<unknown>;
  try {
    work = def.run(job.payload, helpers);
  } catch (err) {
    work = Promise.reject(err);
  }
  work.then(
    (result) => settle({ ok: true, result }),
    (err) => settle({ ok: false, err }),
  );
  return attempt;
}
