import { errorMessage, PermanentJobError } from '../errors';
import { hasMessage, type Translator, type Vars } from '../i18n';

/** Why a job's signal aborted: a cancel request. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}
/** Why a job's signal aborted: the attempt ran past its hard timeout. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
  constructor(readonly ms: number) {
    super(`hard timeout: still running after ${ms} ms`);
  }
}
/** Why a job's signal aborted: another runner holds the job now. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}
/** Why a job's signal aborted: this runner is stopping. */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
}

/**
 * What chat may say about a failed attempt (stored as `jobs.error_info` and in the event's data).
 * The raw error text stays in `jobs.error` and the log: chat never shows it. An error the catalog
 * does not know gets a short reference that the admin finds in the log next to the raw text.
 */
export type JobErrorInfo =
  | { code: 'cancelled' }
  | { code: 'timeout'; ms: number }
  | { code: 'worker_lost' }
  | { code: 'catalog'; key: string; vars?: Vars }
  /** A PermanentJobError's message: written by the handler for the user (from the catalog). */
  | { code: 'message'; text: string }
  | { code: 'unknown'; ref: string };

/**
 * Classify a failed attempt: the abort reason wins (cancel, timeout); an error that carries a
 * catalog key (`UserError` and any error with `key`/`vars`) keeps it; a `PermanentJobError`'s
 * message was written for the user and is shown; anything else is unknown and gets `ref`. Pure.
 */
export function classifyJobError(err: unknown, reason: Error | undefined, ref: string): JobErrorInfo {
  if (reason instanceof JobCancelledError || err instanceof JobCancelledError) return { code: 'cancelled' };
  if (reason instanceof JobTimeoutError) return { code: 'timeout', ms: reason.ms };
  if (err instanceof JobTimeoutError) return { code: 'timeout', ms: err.ms };
  const keyed = err as { key?: unknown; vars?: unknown } | null;
  if (keyed && typeof keyed === 'object' && typeof keyed.key === 'string' && hasMessage(keyed.key)) {
    return { code: 'catalog', key: keyed.key, vars: (keyed.vars ?? {}) as Vars };
  }
  if (err instanceof PermanentJobError) return { code: 'message', text: err.message.slice(0, 800) };
  return { code: 'unknown', ref };
}

/** The raw text stored in `jobs.error` (for the log, the API and admins), never shown in chat. */
export function rawJobError(err: unknown, reason: Error | undefined): string {
  if (reason instanceof JobCancelledError) return 'cancelled';
  if (reason instanceof JobTimeoutError) return reason.message;
  return errorMessage(err);
}

/** Read an `error_info` value from the database (anything malformed reads as null). */
export function parseJobErrorInfo(v: unknown): JobErrorInfo | null {
  const o = typeof v === 'string' ? safeJson(v) : v;
  if (!o || typeof o !== 'object' || typeof (o as { code?: unknown }).code !== 'string') return null;
  return o as JobErrorInfo;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/**
 * A failure as chat says it, in the chat language. `fallbackId` names the job when an old row has no
 * error info (the admin looks it up by id). Pure.
 */
export function describeJobError(info: JobErrorInfo | null, t: Translator, fallbackId: number): string {
  switch (info?.code) {
    case 'cancelled':
      return t('job.error.cancelled');
    case 'timeout':
      return t('job.error.timeout', { seconds: Math.round(info.ms / 100) / 10 });
    case 'worker_lost':
      return t('job.error.workerLost');
    case 'catalog':
      return hasMessage(info.key) ? t(info.key, info.vars) : t('job.error.noRef', { id: fallbackId });
    case 'message':
      return info.text;
    case 'unknown':
      return t('job.error.unknown', { ref: info.ref });
    default:
      return t('job.error.noRef', { id: fallbackId });
  }
}
