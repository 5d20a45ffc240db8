import type { Logger } from 'pino';
import type { Database } from '../db/client';
import type { JobStatus } from '../db/schema';
import type { Translator } from '../i18n';
import type { ReplyTarget } from '../outbound';
import type { JobErrorInfo } from './job-error';
import type { RetryPolicy } from './retry';

/** A job row as the queue reads it. */
export interface Job {
  id: number;
  kind: string;
  status: JobStatus;
  priority: number;
  payload: unknown;
  result: unknown;
  /** The raw error text (log, API, admins); chat shows `errorInfo` instead. */
  error: string | null;
  /** What chat may say about the error (src/jobs/job-error.ts). */
  errorInfo: JobErrorInfo | null;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  progress: number;
  progressText: string | null;
  softTimeoutMs: number | null;
  hardTimeoutMs: number | null;
  cancelRequested: boolean;
  dedupeKey: string | null;
  scheduleId: number | null;
  requestedBy: string | null;
  replyTo: ReplyTarget | null;
  createdAt: Date;
  startedAt: Date | null;
  attemptStartedAt: Date | null;
  finishedAt: Date | null;
  /** Run time summed over the attempts that ended (not the wall time from first start to finish). */
  runMs: number;
  notifiedAt: Date | null;
}

/** What a handler gets besides its payload, built per job. */
export interface JobHelpers {
  job: Job;
  /** Logger scoped to { jobId, kind }. */
  log: Logger;
  /** Aborts on cancel, hard timeout, lost lease or shutdown; `signal.reason` says which. Pass it on. */
  signal: AbortSignal;
  /** Report progress (0–100) with a short text; stored on the job and relayed to chat, throttled. */
  progress(pct: number, text?: string): void;
  db: Database;
}

/**
 * A job kind: its handler and how the loop treats it.
 *
 * @example
 * export const cleanupJob = defineJob<CleanupPayload, CleanupResult>({
 *   kind: 'jobs_cleanup',
 *   concurrency: 1,
 *   async run({ olderThanDays }, { db, progress, signal }) { ...; return { jobs, events, inbound }; },
 *   describe: (r, t) => t('job.cleanup.done', { jobs: r.jobs, events: r.events, inbound: r.inbound }),
 * });
 */
export interface JobDefinition<P = unknown, R = unknown> {
  /** snake_case; stored in the database. */
  kind: string;
  /**
   * The handler. A failure chat should name in words throws an error carrying a catalog `key` and
   * `vars` (as `UserError` does), or a `PermanentJobError` whose message is catalog text; any other
   * error is shown in chat only as a log reference.
   */
  run(payload: P, helpers: JobHelpers): Promise<R>;
  /** Jobs of this kind running at once in one runner (default: the runner's). */
  concurrency?: number;
  /** Extra jobs claimed ahead of free slots (held under lease); raises throughput of tiny jobs. */
  prefetch?: number;
  retry?: Partial<RetryPolicy>;
  /** Defaults for enqueue. */
  maxAttempts?: number;
  softTimeoutMs?: number;
  hardTimeoutMs?: number;
  /** The final chat message's body for a successful job (markdown). */
  describe?(result: R, t: Translator, job: Job): string;
  /** `describe` already says how long the job took: the final message leaves out its own "took" line. */
  describeHasDuration?: boolean;
}

/** Type a job definition. */
export function defineJob<P, R>(def: JobDefinition<P, R>): JobDefinition<P, R> {
  if (!/^[a-z][a-z0-9_]*$/.test(def.kind)) throw new Error(`job kind "${def.kind}" must be snake_case`);
  return def;
}

// biome-ignore lint: handlers are heterogeneous; each validates its own payload.
export type AnyJobDefinition = JobDefinition<any, any>;

/** Options for putting a job on the queue. */
export interface EnqueueOptions {
  kind: string;
  payload?: unknown;
  priority?: number;
  runAt?: Date;
  maxAttempts?: number;
  /** While a job with this key is queued or running, enqueueing it again returns that job. */
  dedupeKey?: string;
  softTimeoutMs?: number;
  hardTimeoutMs?: number;
  requestedBy?: string;
  replyTo?: ReplyTarget;
  scheduleId?: number;
}
