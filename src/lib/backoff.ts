/** How a delay grows with each failed attempt. */
export interface Backoff {
  backoff: 'fixed' | 'linear' | 'exponential';
  /** Delay after the first failure. */
  baseMs: number;
  /** Upper bound of any delay, jitter included. */
  maxMs: number;
  /** 0..1: the delay is drawn from [d·(1−jitter), d]. */
  jitter: number;
}

/**
 * Delay before the next try after `failedAttempt` (1-based) failed. Pure: `random` in [0,1).
 * fixed: base; linear: base·n; exponential: base·2^(n−1); then capped at maxMs and jittered down.
 * The job retries, the Stream reconnects and the broker reconnects all use it.
 */
export function backoffDelay(b: Backoff, failedAttempt: number, random: number): number {
  const n = Math.max(1, failedAttempt);
  let d: number;
  if (b.backoff === 'fixed') d = b.baseMs;
  else if (b.backoff === 'linear') d = b.baseMs * n;
  else d = b.baseMs * 2 ** Math.min(n - 1, 40);
  d = Math.min(d, b.maxMs);
  const jitter = Math.min(1, Math.max(0, b.jitter));
  return Math.max(0, Math.round(d * (1 - jitter * random)));
}
