import { describe, expect, it } from 'vitest';
import { type ZodError, z } from 'zod';
import { PermanentJobError, UserError } from '../../src/errors';
import { progressBar, shouldPostProgress } from '../../src/jobs/progress-throttle';
import { isRetryable, type RetryPolicy } from '../../src/jobs/retry';
import { backoffDelay } from '../../src/lib/backoff';

const p = (over: Partial<RetryPolicy>): RetryPolicy => ({ backoff: 'fixed', baseMs: 1000, maxMs: 60_000, jitter: 0, ...over });

describe('retry backoff', () => {
  it.each([
    ['fixed', [1000, 1000, 1000, 1000]],
    ['linear', [1000, 2000, 3000, 4000]],
    ['exponential', [1000, 2000, 4000, 8000]],
  ] as const)('%s without jitter', (backoff, expected) => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(p({ backoff }), n, 0.5))).toEqual(expected);
  });

  it('caps every policy at maxMs, jitter included', () => {
    expect(backoffDelay(p({ backoff: 'exponential', maxMs: 5000 }), 10, 0)).toBe(5000);
    expect(backoffDelay(p({ backoff: 'linear', maxMs: 2500 }), 7, 0)).toBe(2500);
    expect(backoffDelay(p({ backoff: 'exponential', maxMs: 5000, jitter: 0.5 }), 60, 0)).toBe(5000);
    expect(backoffDelay(p({ backoff: 'exponential', baseMs: 1000, maxMs: 30_000 }), 2000, 0.3)).toBe(30_000);
  });

  it('jitters downwards within [d·(1−jitter), d]', () => {
    const policy = p({ backoff: 'exponential', jitter: 0.2 });
    expect(backoffDelay(policy, 3, 0)).toBe(4000);
    expect(backoffDelay(policy, 3, 0.999999)).toBe(3200);
    expect(backoffDelay(policy, 3, 0.5)).toBe(3600);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(policy, 3, Math.random());
      expect(d).toBeGreaterThanOrEqual(3200);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('treats attempt numbers below 1 as the first', () => {
    expect(backoffDelay(p({ backoff: 'exponential' }), 0, 0)).toBe(1000);
  });
});

describe('retry predicate', () => {
  it('never retries permanent, validation or user errors', () => {
    let zodError: ZodError | undefined;
    try {
      z.number().parse('x');
    } catch (e) {
      zodError = e as ZodError;
    }
    expect(isRetryable(new PermanentJobError('bad payload'), {})).toBe(false);
    expect(isRetryable(zodError, {})).toBe(false);
    expect(isRetryable(new UserError('bad_args', 'dispatch.empty'), {})).toBe(false);
  });

  it('retries other errors unless the policy says otherwise', () => {
    expect(isRetryable(new Error('ECONNRESET'), {})).toBe(true);
    const onlyNetwork = { retryable: (e: unknown) => /ECONN/.test(String(e)) };
    expect(isRetryable(new Error('ECONNRESET'), onlyNetwork)).toBe(true);
    expect(isRetryable(new Error('syntax error'), onlyNetwork)).toBe(false);
  });
});

describe('progress throttling', () => {
  const opts = { intervalMs: 5000, minStep: 5, startedAt: 0 };
  it('waits the interval after the start and after each post', () => {
    expect(shouldPostProgress({}, 50, 4999, opts)).toBe(false);
    expect(shouldPostProgress({}, 50, 5000, opts)).toBe(true);
    expect(shouldPostProgress({ lastAt: 5000, lastPct: 50 }, 80, 9999, opts)).toBe(false);
    expect(shouldPostProgress({ lastAt: 5000, lastPct: 50 }, 80, 10_000, opts)).toBe(true);
  });

  it('posts only meaningful changes and leaves 100% to the final message', () => {
    expect(shouldPostProgress({ lastAt: 0, lastPct: 50 }, 54, 60_000, opts)).toBe(false);
    expect(shouldPostProgress({ lastAt: 0, lastPct: 50 }, 55, 60_000, opts)).toBe(true);
    expect(shouldPostProgress({ lastAt: 0, lastPct: 50 }, 100, 60_000, opts)).toBe(false);
    expect(shouldPostProgress({}, 3, 60_000, opts)).toBe(false);
  });

  it('limits a stream of updates to one message per interval', () => {
    const state: { lastAt?: number; lastPct?: number } = {};
    let posts = 0;
    // 1,000 updates over 30 s, evenly spread.
    for (let i = 1; i <= 1000; i++) {
      const now = i * 30;
      const pct = i / 10;
      if (shouldPostProgress(state, pct, now, opts)) {
        posts += 1;
        state.lastAt = now;
        state.lastPct = pct;
      }
    }
    expect(posts).toBe(5);
  });

  it('draws a text bar', () => {
    expect(progressBar(0)).toBe('░░░░░░░░░░ 0%');
    expect(progressBar(50)).toBe('▓▓▓▓▓░░░░░ 50%');
    expect(progressBar(100)).toBe('▓▓▓▓▓▓▓▓▓▓ 100%');
    expect(progressBar(140)).toBe('▓▓▓▓▓▓▓▓▓▓ 100%');
  });
});
