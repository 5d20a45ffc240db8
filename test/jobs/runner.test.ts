import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cancelJob } from '../../src/jobs/admin';
import { enqueue, enqueueMany } from '../../src/jobs/queue';
import { getJob, jobEventsOf } from '../../src/jobs/reads';
import type { Runner } from '../../src/jobs/runner';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, DB_KINDS, type TestDb } from '../helpers/db';
import { waitUntil } from '../helpers/fake-dingtalk';
import { fixtureJobs, testRelay, testRunner, waitForStatus } from '../helpers/jobs';

describe.each(DB_KINDS)('runner on %s', (kind) => {
  let t: TestDb;
  let runner: Runner | undefined;
  let chat: LocalChat;
  beforeAll(async () => {
    t = await createTestDb(kind);
    chat = await createLocalChat({ url: 'http://127.0.0.1:9', secret: 'x' });
  });
  afterAll(async () => {
    await chat?.close();
    await t?.drop();
  });
  afterEach(async () => {
    await runner?.stop(1000);
    expect(runner?.activeCount() ?? 0, 'a test left handlers running').toBe(0);
    runner = undefined;
  });
  const replyTo = () => ({
    conversationId: 'cid',
    conversationType: 'group' as const,
    sessionWebhook: chat.webhookUrl,
    sessionWebhookExpiresAt: Date.now() + 3_600_000,
  });

  it("runs queued jobs, woken by NOTIFY, within each kind's concurrency", async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const { job } = await enqueue(t.db, { kind: 'echo', payload: { v: 'hello' } });
    // Poll interval is 60 s: finishing quickly proves the NOTIFY wake-up.
    expect(await waitForStatus(t.db, job.id, ['succeeded'], 5000)).toMatchObject({ result: { v: 'hello' }, attempts: 1 });
    await enqueueMany(
      t.db,
      Array.from({ length: 12 }, () => ({ kind: 'echo', payload: { ms: 30 } })),
    );
    await waitUntil(
      async () =>
        (await t.db.query<{ n: number }>(`select count(*)::int as n from jobs where kind='echo' and status='succeeded'`))[0]?.n === 13,
      10_000,
      'all echo jobs',
    );
    expect(f.stats.maxConcurrent).toBe(2);
  });

  it("retries with the kind's backoff until it succeeds, logging each failed attempt", async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const { job } = await enqueue(t.db, { kind: 'flaky', payload: { failTimes: 2 }, maxAttempts: 5 });
    const done = await waitForStatus(t.db, job.id, ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3, result: { attempt: 3 } });
    const events = await jobEventsOf(t.db, job.id);
    expect(events.map((e) => [e.type, e.message])).toEqual([
      ['attempt_failed', 'flaky failure 1'],
      ['attempt_failed', 'flaky failure 2'],
    ]);
    expect(events[0]?.data).toMatchObject({ attempt: 1, of: 5, retryInMs: 50 });
  });

  it('fails at once on a permanent error, and after the last attempt otherwise', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const perm = await enqueue(t.db, { kind: 'permanent', maxAttempts: 5 });
    const flaky = await enqueue(t.db, { kind: 'flaky', payload: { failTimes: 10 }, maxAttempts: 2 });
    expect(await waitForStatus(t.db, perm.job.id, ['failed'])).toMatchObject({ attempts: 1, error: 'payload is unusable' });
    expect(await waitForStatus(t.db, flaky.job.id, ['failed'])).toMatchObject({ attempts: 2, error: 'flaky failure 2' });
  });

  it('ends an attempt at its hard timeout even if the handler ignores it, and keeps running other jobs', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const stuck = await enqueue(t.db, { kind: 'stuck', maxAttempts: 1 });
    const after = await enqueue(t.db, { kind: 'stuck', maxAttempts: 1 }); // same kind, concurrency 1: would wait forever behind it
    const echo = await enqueue(t.db, { kind: 'echo' });
    expect(await waitForStatus(t.db, stuck.job.id, ['failed'])).toMatchObject({ error: 'hard timeout: still running after 200 ms' });
    await waitForStatus(t.db, echo.job.id, ['succeeded']);
    await waitForStatus(t.db, after.job.id, ['failed']);
    expect(f.stats.stuckStarted).toBe(2);
  });

  it('warns at the soft timeout, in the event log and in chat', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list, { relay: testRelay(t.db, f.list) });
    await runner.start();
    const from = chat.replies.length;
    const { job } = await enqueue(t.db, { kind: 'slow', payload: { ms: 600, steps: 3 }, softTimeoutMs: 150, replyTo: replyTo() });
    const notice = await chat.waitFor((r) => r.text.includes('已运行超过'), 5000, from);
    expect(notice.text).toContain(`#${job.id}`);
    await waitForStatus(t.db, job.id, ['succeeded']);
    expect((await jobEventsOf(t.db, job.id)).map((e) => e.type)).toContain('soft_timeout');
    const final = await chat.waitFor((r) => r.text.includes('已完成'), 5000, from);
    expect(final.text).toContain('slow work done');
  });

  it('cancels a running job through its signal, and a queued one at once', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const running = await enqueue(t.db, { kind: 'slow', payload: { ms: 20_000, steps: 200 } });
    const queued = await enqueue(t.db, { kind: 'slow', payload: { ms: 10 } }); // concurrency 1: waits behind it
    await waitForStatus(t.db, running.job.id, ['running']);
    expect(await cancelJob(t.db, queued.job.id, 'alice')).toMatchObject({ after: 'cancelled' });
    await cancelJob(t.db, running.job.id, 'alice');
    const cancelled = await waitForStatus(t.db, running.job.id, ['cancelled', 'failed', 'succeeded'], 5000);
    expect(cancelled.status).toBe('cancelled');
    expect((await jobEventsOf(t.db, running.job.id)).map((e) => e.type)).toEqual(['cancel_requested', 'cancelled']);
    expect((await getJob(t.db, queued.job.id))?.attempts).toBe(0);
  });

  it('stores progress while the job runs', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const { job } = await enqueue(t.db, { kind: 'slow', payload: { ms: 3000, steps: 30 } });
    const mid = await waitUntil(
      async () => {
        const j = await getJob(t.db, job.id);
        return j && j.progress > 0 && j.progress < 100 ? j : null;
      },
      5000,
      'progress',
    );
    expect(mid.progressText).toMatch(/^\d+\/30$/);
    await cancelJob(t.db, job.id, 'test');
    await waitForStatus(t.db, job.id, ['cancelled']);
  });

  it('on stop, lets a job finish within the grace period and releases one that does not', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list);
    await runner.start();
    const quick = await enqueue(t.db, { kind: 'echo', payload: { ms: 300 } });
    const long = await enqueue(t.db, { kind: 'slow', payload: { ms: 30_000, steps: 300 } });
    await waitForStatus(t.db, quick.job.id, ['running']);
    await waitForStatus(t.db, long.job.id, ['running']);
    await runner.stop(1000);
    expect(await getJob(t.db, quick.job.id)).toMatchObject({ status: 'succeeded' });
    expect(await getJob(t.db, long.job.id)).toMatchObject({ status: 'queued', attempts: 0, leaseOwner: null });
    expect((await jobEventsOf(t.db, long.job.id)).map((e) => e.type)).toEqual(['released']);
    await cancelJob(t.db, long.job.id, 'test');
  });
});
