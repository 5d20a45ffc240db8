import { ZodError } from 'zod';
import { PermanentJobError, UserError } from '../errors';
import type { Backoff } from '../lib/backoff';

/** How long to wait before attempt n+1, and which errors are worth another attempt. */
export interface RetryPolicy extends Backoff {
  /** Extra predicate; errors it rejects fail the job at once. */
  retryable?: (err: unknown) => boolean;
}

export const DEFAULT_RETRY: RetryPolicy = { backoff: 'exponential', baseMs: 2000, maxMs: 5 * 60_000, jitter: 0.2 };

/** Validation errors, user errors and PermanentJobError never succeed on retry. */
export function isRetryable(err: unknown, policy: Pick<RetryPolicy, 'retryable'>): boolean {
  if (err instanceof PermanentJobError || err instanceof ZodError || err instanceof UserError) return false;
  if (err instanceof DOMException && err.name === 'AbortError') return true;
  return policy.retryable ? policy.retryable(err) : true;
}
