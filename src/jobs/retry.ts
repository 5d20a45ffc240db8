import { ZodError } from 'zod';
import { PermanentJobError, UserError } from '../errors';

/** How long to wait before attempt n+1, and which errors are worth another attempt. */
export interface RetryPolicy {
  backoff: 'fixed' | 'linear' | 'exponential';
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** Upper bound of any delay, jitter included. */
  maxMs: number;
  /** 0..1: the delay is drawn from [d·(1−jitter), d]. */
  jitter: number;
  /** Extra predicate; errors it rejects fail the job at once. */
  retryable?: (err: unknown) => boolean;
}

export const DEFAULT_RETRY: RetryPolicy = { backoff: 'exponential', baseMs: 2000, maxMs: 5 * 60_000, jitter: 0.2 };

/**
 * Delay before the next attempt after `failedAttempt` (1-based) failed. Pure: `random` in [0,1).
 * fixed: base; linear: base·n; exponential: base·2^(n−1); then capped at maxMs and jittered down.
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: number): number {
  const n = Math.max(1, failedAttempt);
  let d: number;
  if (policy.backoff === 'fixed') d = policy.baseMs;
  else if (policy.backoff === 'linear') d = policy.baseMs * n;
  else d = policy.baseMs * 2 ** Math.min(n - 1, 40);
  d = Math.min(d, policy.maxMs);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(d * (1 - jitter * random)));
}

/** Validation errors, user errors and PermanentJobError never succeed on retry. */
export function isRetryable(err: unknown, policy: Pick<RetryPolicy, 'retryable'>): boolean {
  if (err instanceof PermanentJobError || err instanceof ZodError || err instanceof UserError) return false;
  if (err instanceof DOMException && err.name === 'AbortError') return true;
  return policy.retryable ? policy.retryable(err) : true;
}
