import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cancelJob, retryJob } from '../../src/jobs/admin';
import { CHANNEL_NEW, enqueue, enqueueMany, failJob, heartbeat, reapExpired, releaseJobs } from '../../src/jobs/queue';
import { getJob, jobEventsOf } from '../../src/jobs/reads';
import { createTestDb, DB_KINDS, type TestDb } from '../helpers/db';
import { waitUntil } from '../helpers/fake-dingtalk';
import { claimJobs, completeJobs } from '../helpers/jobs';

describe.each(DB_KINDS)('job queue on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
  });
  afterAll(async () => t?.drop());
  afterEach(async () => {
    await t.db.query('delete from jobs');
    await t.db.query('delete from job_events');
  });

  it('enqueues, claims under a lease and completes', async () => {
    const { job, created } = await enqueue(t.db, { kind: 'k', payload: { a: 1 }, requestedBy: 'alice', maxAttempts: 2 });
    expect(created).toBe(true);
    expect(job).toMatchObject({ kind: 'k', status: 'queued', attempts: 0, maxAttempts: 2, payload: { a: 1 }, requestedBy: 'alice' });
    const [claimed] = await claimJobs(t.db, 'w1', [{ kind: 'k', n: 5 }], 30_000);
    expect(claimed).toMatchObject({ id: job.id, status: 'running', attempts: 1, leaseOwner: 'w1' });
    expect(claimed?.leaseExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect(claimed?.startedAt).toBeInstanceOf(Date);
    expect(await claimJobs(t.db, 'w2', [{ kind: 'k', n: 5 }], 30_000)).toEqual([]);
    expect(await completeJobs(t.db, 'w2', [{ id: job.id, result: { no: 1 } }])).toEqual([]); // not the lease holder
    expect(await completeJobs(t.db, 'w1', [{ id: job.id, result: { ok: true } }])).toEqual([job.id]);
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'succeeded', result: { ok: true }, progress: 100, leaseOwner: null });
  });

  it('returns the unfinished job for a repeated dedupe key, and a new one after it finished', async () => {
    const a = await enqueue(t.db, { kind: 'k', dedupeKey: 'schedule:1:2026-11-23T10:00' });
    const b = await enqueue(t.db, { kind: 'k', dedupeKey: 'schedule:1:2026-11-23T10:00' });
    expect(b).toMatchObject({ created: false, job: { id: a.job.id } });
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    expect((await enqueue(t.db, { kind: 'k', dedupeKey: 'schedule:1:2026-11-23T10:00' })).created).toBe(false); // running still holds it
    await completeJobs(t.db, 'w', [{ id: a.job.id, result: null }]);
    const c = await enqueue(t.db, { kind: 'k', dedupeKey: 'schedule:1:2026-11-23T10:00' });
    expect(c.created).toBe(true);
    expect(c.job.id).not.toBe(a.job.id);
    expect(
      await enqueueMany(t.db, [
        { kind: 'k', dedupeKey: 'schedule:1:2026-11-23T10:00' },
        { kind: 'k', dedupeKey: 'other' },
      ]),
    ).toBe(1);
  });

  it('claims by priority, then oldest first, only jobs that are due, up to n per kind', async () => {
    const low = await enqueue(t.db, { kind: 'k', priority: 0 });
    const high = await enqueue(t.db, { kind: 'k', priority: 5 });
    const mid = await enqueue(t.db, { kind: 'k', priority: 1 });
    const high2 = await enqueue(t.db, { kind: 'k', priority: 5 });
    await enqueue(t.db, { kind: 'k', priority: 9, runAt: new Date(Date.now() + 60_000) });
    const other = await enqueue(t.db, { kind: 'other' });
    const claimed = await claimJobs(
      t.db,
      'w',
      [
        { kind: 'k', n: 3 },
        { kind: 'other', n: 1 },
      ],
      30_000,
    );
    expect(claimed.filter((j) => j.kind === 'k').map((j) => j.id)).toEqual([high.job.id, high2.job.id, mid.job.id]);
    expect(claimed.filter((j) => j.kind === 'other').map((j) => j.id)).toEqual([other.job.id]);
    const rest = await claimJobs(t.db, 'w', [{ kind: 'k', n: 10 }], 30_000);
    expect(rest.map((j) => j.id)).toEqual([low.job.id]); // the future one is not due
  });

  it('requeues a failed attempt for later, or fails it for good', async () => {
    const { job } = await enqueue(t.db, { kind: 'k', maxAttempts: 2 });
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    const later = new Date(Date.now() + 60_000);
    expect(await failJob(t.db, 'w', job.id, 'boom 1', later)).toBe('queued');
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'queued', error: 'boom 1', attempts: 1 });
    expect(await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000)).toEqual([]);
    await t.db.query('update jobs set run_at = now() where id = $1', [job.id]);
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    expect(await failJob(t.db, 'w', job.id, 'boom 2', null)).toBe('failed');
    const failed = await getJob(t.db, job.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, error: 'boom 2' });
    expect(failed?.finishedAt).toBeInstanceOf(Date);
  });

  it('cancels a queued job at once and flags a running one', async () => {
    const queued = await enqueue(t.db, { kind: 'k' });
    expect(await cancelJob(t.db, queued.job.id, 'alice')).toEqual({ before: 'queued', after: 'cancelled' });
    expect(await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000)).toEqual([]);
    const running = await enqueue(t.db, { kind: 'k' });
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    expect(await cancelJob(t.db, running.job.id, 'alice')).toEqual({ before: 'running', after: 'running' });
    expect(await heartbeat(t.db, 'w', 30_000)).toEqual([{ id: running.job.id, cancelRequested: true }]);
    expect(await failJob(t.db, 'w', running.job.id, 'cancelled', null, true)).toBe('cancelled');
    expect(await cancelJob(t.db, running.job.id, 'alice')).toEqual({ before: 'cancelled', after: 'cancelled' });
    expect(await cancelJob(t.db, 999_999, 'alice')).toBeNull();
    // The status change writes its event in the same statement.
    expect((await jobEventsOf(t.db, running.job.id)).map((e) => e.type)).toEqual(['cancel_requested', 'cancelled']);
  });

  it('retries a failed or cancelled job as a new attempt of the same record', async () => {
    const { job } = await enqueue(t.db, { kind: 'k', maxAttempts: 1 });
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    await failJob(t.db, 'w', job.id, 'nope', null);
    const r = await retryJob(t.db, job.id, 'alice');
    expect(r.ok).toBe(true);
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'queued', attempts: 1, maxAttempts: 2, error: null, finishedAt: null });
    const [again] = await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    expect(again).toMatchObject({ id: job.id, attempts: 2 });
    expect(await retryJob(t.db, job.id, 'alice')).toEqual({ ok: false, status: 'running' });
    expect(await retryJob(t.db, 424242, 'alice')).toEqual({ ok: false, status: null });
  });

  it('takes back jobs whose lease expired: requeued with attempts left, failed without', async () => {
    const a = await enqueue(t.db, { kind: 'k', maxAttempts: 3 });
    const b = await enqueue(t.db, { kind: 'k', maxAttempts: 1 });
    await claimJobs(t.db, 'dead-worker', [{ kind: 'k', n: 2 }], 30_000);
    expect(await reapExpired(t.db)).toEqual([]);
    await t.db.query(`update jobs set lease_expires_at = now() - interval '1 second'`);
    const reaped = await reapExpired(t.db);
    expect(reaped.sort((x, y) => x.id - y.id)).toEqual([
      { id: a.job.id, kind: 'k', status: 'queued' },
      { id: b.job.id, kind: 'k', status: 'failed' },
    ]);
    expect((await jobEventsOf(t.db, a.job.id))[0]).toMatchObject({ type: 'lease_expired' });
    const [taken] = await claimJobs(t.db, 'w2', [{ kind: 'k', n: 5 }], 30_000);
    expect(taken).toMatchObject({ id: a.job.id, attempts: 2, leaseOwner: 'w2' });
  });

  it('releases jobs without counting the attempt', async () => {
    const { job } = await enqueue(t.db, { kind: 'k' });
    await claimJobs(t.db, 'w', [{ kind: 'k', n: 1 }], 30_000);
    expect(await releaseJobs(t.db, 'other', [job.id], 'x')).toEqual([]);
    expect(await releaseJobs(t.db, 'w', [job.id], 'shutdown')).toEqual([job.id]);
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'queued', attempts: 0, leaseOwner: null });
  });

  it('notifies listeners when jobs are inserted, once per kind per statement', async () => {
    const got: string[] = [];
    const unlisten = await t.db.listen(CHANNEL_NEW, (k) => got.push(k));
    await enqueueMany(
      t.db,
      Array.from({ length: 50 }, (_, i) => ({ kind: i % 2 ? 'a' : 'b' })),
    );
    await enqueue(t.db, { kind: 'c' });
    await waitUntil(async () => got.length >= 3, 5000, 'three notifications');
    await unlisten();
    expect(got.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('job queue on postgres: concurrent claims', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('postgres', 10);
  });
  afterAll(async () => t?.drop());

  it('never hands one job to two claimers (SKIP LOCKED)', async () => {
    await enqueueMany(
      t.db,
      Array.from({ length: 2000 }, () => ({ kind: 'k' })),
    );
    const seen = new Map<number, string>();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (;;) {
          const jobs = await claimJobs(t.db, `w${w}`, [{ kind: 'k', n: 25 }], 30_000);
          if (jobs.length === 0) return;
          for (const j of jobs) {
            expect(seen.has(j.id), `job ${j.id} claimed twice`).toBe(false);
            seen.set(j.id, `w${w}`);
          }
        }
      }),
    );
    expect(seen.size).toBe(2000);
    expect(new Set(seen.values()).size).toBeGreaterThan(1);
  });
});
