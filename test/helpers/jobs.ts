import { setTimeout as sleep } from 'node:timers/promises';
import { createReplier } from '../../src/chat/replier';
import type { Database } from '../../src/db/client';
import type { JobStatus } from '../../src/db/schema';
import { PermanentJobError } from '../../src/errors';
import { createTranslator } from '../../src/i18n';
import { exchangeJobs } from '../../src/jobs/queue';
import { getJob } from '../../src/jobs/reads';
import { createRelay, type Relay } from '../../src/jobs/relay';
import { createRunner, type Runner, type RunnerOptions } from '../../src/jobs/runner';
import { type AnyJobDefinition, defineJob, type Job } from '../../src/jobs/types';
import { testLog } from './deps';

/** Wait (without sleeping blindly) until a job reaches one of `statuses`. */
export async function waitForStatus(db: Database, id: number, statuses: JobStatus[], timeoutMs = 15_000) {
  const started = Date.now();
  for (;;) {
    const job = await getJob(db, id);
    if (job && statuses.includes(job.status)) return job;
    if (Date.now() - started > timeoutMs) throw new Error(`job ${id} is ${job?.status}, not ${statuses.join('/')} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Job kinds used to exercise the runner; each does what its name says. */
export function fixtureJobs() {
  const stats = { concurrent: 0, maxConcurrent: 0, attemptsSeen: new Map<number, number>(), stuckStarted: 0 };
  const defs = {
    echo: defineJob<{ v?: unknown; ms?: number }, unknown>({
      kind: 'echo',
      concurrency: 2,
      async run(p, h) {
        stats.concurrent += 1;
        stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
        try {
          if (p.ms) await sleep(p.ms, undefined, { signal: h.signal });
          return { v: p.v ?? null };
        } finally {
          stats.concurrent -= 1;
        }
      },
    }),
    flaky: defineJob<{ failTimes: number }, { attempt: number }>({
      kind: 'flaky',
      retry: { backoff: 'fixed', baseMs: 50, maxMs: 50, jitter: 0 },
      maxAttempts: 5,
      async run(p, h) {
        const n = (stats.attemptsSeen.get(h.job.id) ?? 0) + 1;
        stats.attemptsSeen.set(h.job.id, n);
        if (n <= p.failTimes) throw new Error(`flaky failure ${n}`);
        return { attempt: h.job.attempts };
      },
    }),
    permanent: defineJob<unknown, never>({
      kind: 'permanent',
      async run() {
        throw new PermanentJobError('payload is unusable');
      },
    }),
    stuck: defineJob<unknown, never>({
      kind: 'stuck',
      concurrency: 1,
      hardTimeoutMs: 200,
      maxAttempts: 1,
      run() {
        stats.stuckStarted += 1;
        return new Promise<never>(() => {}); // ignores its signal and never settles
      },
    }),
    slow: defineJob<{ ms: number; steps?: number }, { done: boolean }>({
      kind: 'slow',
      concurrency: 1,
      async run(p, h) {
        const steps = p.steps ?? 10;
        for (let i = 1; i <= steps; i++) {
          await sleep(p.ms / steps, undefined, { signal: h.signal });
          h.progress((i / steps) * 100, `${i}/${steps}`);
        }
        return { done: true };
      },
      describe: (r) => (r.done ? 'slow work done' : ''),
    }),
  };
  return { defs, stats, list: Object.values(defs) as AnyJobDefinition[] };
}

/** A runner over the fixtures (or given kinds), with short timings for tests. */
export function testRunner(db: Database, definitions: AnyJobDefinition[], over: Partial<RunnerOptions> = {}): Runner {
  return createRunner({
    db,
    log: testLog,
    definitions,
    concurrency: 4,
    leaseMs: 30_000,
    pollIntervalMs: 60_000, // long: wake-ups in tests must come from LISTEN/NOTIFY
    ...over,
  });
}

/** A relay that delivers through the real replier (to a local sessionWebhook). */
export function testRelay(db: Database, definitions: AnyJobDefinition[], intervalMs = 0): Relay {
  return createRelay({
    db,
    notifier: createReplier({ apiBase: 'http://127.0.0.1:9', fetch, now: Date.now, log: testLog, replyHosts: ['127.0.0.1'] }),
    t: createTranslator('zh-CN'),
    log: testLog,
    definitions,
    intervalMs,
  });
}

/** Claim up to `n` ready jobs of each kind, as a runner's exchange does (queue tests). */
export async function claimJobs(db: Database, owner: string, wants: { kind: string; n: number }[], leaseMs: number): Promise<Job[]> {
  const batches = await Promise.all(wants.filter((w) => w.n > 0).map((w) => exchangeJobs(db, owner, [], w, leaseMs)));
  return batches.flatMap((b) => b.claimed);
}

/** Record handlers' results as a runner's exchange does. Returns the ids whose lease was still ours. */
export async function completeJobs(db: Database, owner: string, done: { id: number; result: unknown }[]): Promise<number[]> {
  if (done.length === 0) return [];
  return (await exchangeJobs(db, owner, done, null, 0)).completed;
}
