import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError, UserError } from '../../src/errors';
import { createTranslator } from '../../src/i18n';
import { classifyJobError, describeJobError, JobCancelledError, JobTimeoutError } from '../../src/jobs/job-error';
import { enqueue } from '../../src/jobs/queue';
import { getJob, jobEventsOf } from '../../src/jobs/reads';
import { renderJobDetail } from '../../src/jobs/render';
import type { Runner } from '../../src/jobs/runner';
import { jobStats } from '../../src/jobs/stats';
import { defineJob } from '../../src/jobs/types';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { fixtureJobs, testRelay, testRunner, waitForStatus } from '../helpers/jobs';

// Chat never shows raw error text: known failures in catalog words, unknown ones as a reference
// that the log carries next to the raw error. And a retried job's duration is its run time.
let t: TestDb;
let chat: LocalChat;
let runner: Runner | undefined;
const logLines: Record<string, unknown>[] = [];
const log = pino(
  { level: 'warn' },
  new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      cb();
    },
  }),
);
const zh = createTranslator('zh-CN');
const en = createTranslator('en');

beforeAll(async () => {
  t = await createTestDb('pglite');
  chat = await createLocalChat({ url: 'http://127.0.0.1:9', secret: 'x' });
});
afterAll(async () => {
  await chat?.close();
  await t?.drop();
});
afterEach(async () => {
  await runner?.stop(1000);
  runner = undefined;
});
const replyTo = () => ({
  conversationId: 'cid',
  conversationType: 'group' as const,
  sessionWebhook: chat.webhookUrl,
  sessionWebhookExpiresAt: Date.now() + 3_600_000,
});

describe('job failures in chat', () => {
  it.each([
    ['a cancel', new Error('AbortError'), new JobCancelledError('c'), { code: 'cancelled' }],
    ['a hard timeout', new Error('aborted'), new JobTimeoutError(1500), { code: 'timeout', ms: 1500 }],
    [
      'an error with a catalog key',
      new UserError('bad_args', 'jobs.none', { n: 1 }),
      undefined,
      { code: 'catalog', key: 'jobs.none', vars: { n: 1 } },
    ],
    [
      'a permanent error (its message is written for the user)',
      new PermanentJobError('队列 q 不存在'),
      undefined,
      { code: 'message', text: '队列 q 不存在' },
    ],
    ['a key the catalog lacks', Object.assign(new Error('x'), { key: 'no.such.key' }), undefined, { code: 'unknown', ref: 'r1' }],
    ['anything else', new Error('ECONNREFUSED 10.0.0.5:5432'), undefined, { code: 'unknown', ref: 'r1' }],
  ])('classifies %s', (_what, err, reason, info) => {
    expect(classifyJobError(err, reason, 'r1')).toEqual(info);
  });

  it('shows an unknown error as a reference the log carries with the raw text, in retry notices, the final message and /job', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list, { log, relay: testRelay(t.db, f.list) });
    await runner.start();
    const from = chat.replies.length;
    const { job } = await enqueue(t.db, { kind: 'flaky', payload: { failTimes: 10 }, maxAttempts: 2, replyTo: replyTo() });
    const retry = await chat.waitFor((r) => r.text.includes('自动重试'), 5000, from);
    const final = await chat.waitFor((r) => r.text.includes('失败') && r.text.includes('####'), 5000, from);
    for (const msg of [retry.text, final.text]) expect(msg).not.toContain('flaky failure');
    const refs = [retry.text, final.text].map((m) => /ref=([0-9a-f]{6})/.exec(m)?.[1]);
    expect(refs[0]).toBeTruthy();
    expect(refs[1]).toBeTruthy();
    // The admin finds each reference in the log, next to the raw error.
    expect(logLines.find((l) => l.ref === refs[0])).toMatchObject({ jobId: job.id, err: 'flaky failure 1' });
    expect(logLines.find((l) => l.ref === refs[1])).toMatchObject({ jobId: job.id, err: 'flaky failure 2' });
    const failed = await waitForStatus(t.db, job.id, ['failed']);
    expect(failed.error).toBe('flaky failure 2'); // kept for admins and the API
    const detail = renderJobDetail(failed, await jobEventsOf(t.db, job.id), zh);
    expect(detail).not.toMatch(/flaky failure|attempt_failed/);
    expect(detail).toContain(`ref=${refs[1]}`);
    expect(detail).toContain('第 1/2 次尝试失败');
  });

  it('says known failures in the chat language: hard timeout, cancel, lost worker', async () => {
    const f = fixtureJobs();
    runner = testRunner(t.db, f.list, { log, relay: testRelay(t.db, f.list) });
    await runner.start();
    const from = chat.replies.length;
    const stuck = await enqueue(t.db, { kind: 'stuck', maxAttempts: 1, replyTo: replyTo() });
    const final = await chat.waitFor((r) => r.text.includes(`#${stuck.job.id}`) && r.text.includes('####'), 5000, from);
    expect(final.text).toContain('错误：超过时限（0.2 秒）仍未完成，已中止');
    expect(final.text).not.toContain('hard timeout');

    const slow = await enqueue(t.db, { kind: 'slow', payload: { ms: 20_000, steps: 200 }, replyTo: replyTo() });
    await waitForStatus(t.db, slow.job.id, ['running']);
    await chat.waitFor((r) => r.text.includes(`#${slow.job.id}`) && /\d+\/200/.test(r.text), 5000, from);
    const { cancelJob } = await import('../../src/jobs/admin');
    await cancelJob(t.db, slow.job.id, 'alice');
    const cancelled = await waitForStatus(t.db, slow.job.id, ['cancelled'], 5000);
    // The closing message says how far it got (a push: how many messages were already confirmed).
    expect(cancelled.progressText).toMatch(/^\d+\/200$/);
    const stopped = await chat.waitFor(
      (r) => r.text.includes(`#${slow.job.id}`) && r.text.includes('####') && r.text.includes('取消'),
      5000,
      from,
    );
    expect(stopped.text).toContain(`取消时的进度：${cancelled.progressText}`);
    const detail = renderJobDetail(cancelled, await jobEventsOf(t.db, slow.job.id), zh);
    // Before: "错误: cancelled" and "cancelled: cancelled".
    expect(detail).not.toMatch(/cancel/);
    expect(detail).toContain('alice 请求取消');
    expect(detail).toContain('已取消');

    expect(describeJobError({ code: 'worker_lost' }, zh, 1)).toBe('运行它的进程意外停止，任务被收回');
    expect(describeJobError({ code: 'unknown', ref: 'ab12cd' }, en, 1)).toContain('ref=ab12cd');
    expect(describeJobError(null, zh, 7)).toContain('#7');
  });

  it("reports a retried job's run time, not the idle time between attempts, in chat and /stats", async () => {
    let calls = 0;
    const napper = defineJob<unknown, { ok: boolean }>({
      kind: 'napper',
      retry: { backoff: 'fixed', baseMs: 1500, maxMs: 1500, jitter: 0 },
      async run(_p, h) {
        calls += 1;
        await sleep(100, undefined, { signal: h.signal });
        if (calls === 1) throw new Error('first attempt fails');
        return { ok: true };
      },
    });
    runner = testRunner(t.db, [napper], { log, relay: testRelay(t.db, [napper]) });
    await runner.start();
    const from = chat.replies.length;
    const { job } = await enqueue(t.db, { kind: 'napper', maxAttempts: 2, replyTo: replyTo() });
    const done = await waitForStatus(t.db, job.id, ['succeeded', 'failed'], 10_000);
    expect(done.status).toBe('succeeded');
    const wallMs = (done.finishedAt?.getTime() ?? 0) - (done.startedAt?.getTime() ?? 0);
    expect(wallMs).toBeGreaterThanOrEqual(1500);
    expect(done.runMs).toBeGreaterThanOrEqual(190);
    expect(done.runMs).toBeLessThan(1200);
    const final = await chat.waitFor((r) => r.text.includes(`#${job.id}`) && r.text.includes('已完成'), 5000, from);
    expect(final.text).toMatch(/用时 \d+ 毫秒/); // run time ~200 ms; the wall time would read "1.x 秒"
    const detail = renderJobDetail(done, [], zh);
    expect(detail).toMatch(/运行用时: \d+ 毫秒/);
    expect(detail).toMatch(/总耗时（含排队和重试间隔）: [\d.]+ 秒/);
    const [stats] = (await jobStats(t.db, 1)).filter((s) => s.kind === 'napper');
    expect(stats?.avgSeconds).toBeLessThan(1.2);
    expect(stats?.avgWallSeconds).toBeGreaterThanOrEqual(1.5);
    expect(await getJob(t.db, job.id)).toMatchObject({ errorInfo: null, error: null });
  });
});
