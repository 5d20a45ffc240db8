import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cancelJob } from '../../src/jobs/admin';
import { type Attempt, startAttempt } from '../../src/jobs/attempt';
import { createClaimLoop } from '../../src/jobs/claim-loop';
import { enqueue, enqueueMany } from '../../src/jobs/queue';
import { getJob, jobEventsOf } from '../../src/jobs/reads';
import { beat, reap } from '../../src/jobs/runner-timers';
import { defineJob, type Job } from '../../src/jobs/types';
import { createTestDb, type TestDb } from '../helpers/db';
import { testLog } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { claimJobs } from '../helpers/jobs';

// The runner's three parts, each driven alone against a real (embedded) database.
let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('pglite');
});
afterAll(async () => t?.drop());
afterEach(async () => {
  await t.db.query('delete from jobs');
  await t.db.query('delete from job_events');
});

describe('one attempt (attempt.ts)', () => {
  it('records a failure with a backoff computed from the injected clock, and frees its slot once', async () => {
    const { job } = await enqueue(t.db, { kind: 'boom', maxAttempts: 3 });
    const [claimed] = await claimJobs(t.db, 'w', [{ kind: 'boom', n: 1 }], 30_000);
    const clock = Date.parse('2031-01-02T03:04:05.000Z');
    const freed: number[] = [];
    const retries: [string, number][] = [];
    const def = defineJob<unknown, never>({
      kind: 'boom',
      retry: { backoff: 'fixed', baseMs: 60_000, maxMs: 60_000, jitter: 0 },
      async run() {
        throw new Error('database password is hunter2');
      },
    });
    startAttempt(
      claimed as Job,
      def,
      { db: t.db, log: testLog, workerId: 'w', now: () => clock, random: () => 0.5, cancelGraceMs: 1000, newRef: () => 'abc123' },
      {
        freed: (a) => freed.push(a.job.id),
        succeeded: () => {
          throw new Error('must not succeed');
        },
        retryScheduled: (kind, ms) => retries.push([kind, ms]),
      },
    );
    await waitUntil(() => retries.length > 0, 5000, 'retry scheduled');
    expect(freed).toEqual([job.id]);
    expect(retries).toEqual([['boom', 60_000]]);
    const after = await getJob(t.db, job.id);
    // run_at comes from the injected clock, not the machine's.
    expect(after).toMatchObject({ status: 'queued', error: 'database password is hunter2', errorInfo: { code: 'unknown', ref: 'abc123' } });
    expect(after?.runAt.toISOString()).toBe('2031-01-02T03:05:05.000Z');
    expect((await jobEventsOf(t.db, job.id))[0]?.data).toMatchObject({ attempt: 1, of: 3, error: { code: 'unknown', ref: 'abc123' } });
  });

  it('hands a success to its runner with the last progress text, and ends a cancelled handler that ignores its signal', async () => {
    await enqueueMany(t.db, [{ kind: 'ok' }, { kind: 'ok' }]);
    const [first, second] = await claimJobs(t.db, 'w', [{ kind: 'ok', n: 2 }], 30_000);
    const done: { id: number; result: unknown; text?: string }[] = [];
    const deps = { db: t.db, log: testLog, workerId: 'w', now: Date.now, random: Math.random, cancelGraceMs: 50 };
    const hooks = {
      freed: () => {},
      succeeded: (a: Attempt, result: unknown, text?: string) => done.push({ id: a.job.id, result, text }),
      retryScheduled: () => {},
    };
    const quick = defineJob<unknown, { n: number }>({
      kind: 'ok',
      async run(_p, h) {
        h.progress(50, 'half way');
        return { n: 1 };
      },
    });
    startAttempt(first as Job, quick, deps, hooks);
    await waitUntil(() => done.length > 0, 5000, 'success');
    expect(done).toEqual([{ id: first?.id, result: { n: 1 }, text: 'half way' }]);

    const deaf = defineJob<unknown, never>({ kind: 'ok', run: () => new Promise<never>(() => {}) });
    const a = startAttempt(second as Job, deaf, deps, hooks);
    a.requestCancel();
    await waitUntil(async () => (await getJob(t.db, second?.id as number))?.status === 'cancelled', 5000, 'cancelled');
    expect(a.settled).toBe(true);
    expect((await getJob(t.db, second?.id as number))?.errorInfo).toEqual({ code: 'cancelled' });
  });
});

describe('the claim loop (claim-loop.ts)', () => {
  it("keeps each kind's slots full, and records completions in its next exchange", async () => {
    await enqueueMany(
      t.db,
      Array.from({ length: 5 }, () => ({ kind: 'k' })),
    );
    const launched: Job[] = [];
    const recorded: number[] = [];
    const loop = createClaimLoop({
      db: t.db,
      log: testLog,
      workerId: 'w',
      definitions: [defineJob({ kind: 'k', concurrency: 2, run: async () => null })],
      concurrency: 10,
      leaseMs: 30_000,
      now: Date.now,
      launch: (job) => launched.push(job),
      recorded: (jobs) => recorded.push(...jobs.map((j) => j.id)),
    });
    loop.start();
    await waitUntil(() => launched.length === 2, 5000, 'two launched');
    expect(loop.running()).toBe(2);
    const first = launched[0] as Job;
    loop.complete({ job: first, result: { fine: true } });
    loop.slotFreed('k');
    await waitUntil(() => launched.length === 3, 5000, 'a third launched into the freed slot');
    await loop.flush();
    expect(recorded).toEqual([first.id]);
    expect(await getJob(t.db, first.id)).toMatchObject({ status: 'succeeded', result: { fine: true } });
    const unstarted = loop.stop();
    expect(launched.length).toBe(3); // concurrency 2, one freed: never more than that started
    expect(unstarted.every((j) => j.status === 'running')).toBe(true);
  });
});

describe('the timers (runner-timers.ts)', () => {
  it('a heartbeat reports lost leases and cancel requests of the jobs held', async () => {
    const { job } = await enqueue(t.db, { kind: 'k' });
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    const lost: number[] = [];
    const cancels: number[] = [];
    const hooks = {
      wake: () => {},
      held: () => [job.id, 424242],
      leaseLost: (id: number) => lost.push(id),
      cancelRequested: (id: number) => cancels.push(id),
      reapedFinal: () => {},
    };
    await beat({ db: t.db, workerId: 'w', leaseMs: 30_000 }, hooks);
    expect([lost, cancels]).toEqual([[424242], []]);
    await cancelJob(t.db, job.id, 'alice');
    await beat({ db: t.db, workerId: 'w', leaseMs: 30_000 }, hooks);
    expect(cancels).toEqual([job.id]);
  });

  it('the reaper takes back expired jobs, wakes the loop and reports the ones it ended', async () => {
    const again = await enqueue(t.db, { kind: 'k', maxAttempts: 2 });
    const last = await enqueue(t.db, { kind: 'k', maxAttempts: 1 });
    await claimJobs(t.db, 'dead', [{ kind: 'k', n: 2 }], 30_000);
    await t.db.query(`update jobs set lease_expires_at = now() - interval '1 second'`);
    const woke: (string | undefined)[] = [];
    const final: number[] = [];
    await reap({ db: t.db, log: testLog }, { wake: (k) => woke.push(k), reapedFinal: (ids) => final.push(...ids) });
    expect(final).toEqual([last.job.id]);
    expect(woke).toEqual([undefined]);
    expect(await getJob(t.db, again.job.id)).toMatchObject({ status: 'queued', errorInfo: { code: 'worker_lost' } });
    expect(await getJob(t.db, last.job.id)).toMatchObject({ status: 'failed', errorInfo: { code: 'worker_lost' } });
  });
});
