import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/http/tokens';
import { enqueue } from '../../src/jobs/queue';
import { getJob } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';

// The job loop end to end through the real chat callback: a command enqueues a job, the bot
// acks, posts throttled progress, then the result; /job, /jobs, /cancel, /retry, /stats, the API.
let t: TestDb;
let server: RunningServer;
let boss: LocalChat;
let alice: LocalChat;

const jobIdIn = (text: string) => Number(/#(\d+)/.exec(text)?.[1]);

beforeAll(async () => {
  t = await createTestDb('postgres');
  server = await testServer(t.db, { ADMIN_STAFF_IDS: 'boss', PROGRESS_INTERVAL_MS: '40', JOB_RETENTION_DAYS: '30' });
  boss = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'boss' });
  alice = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', conversationId: 'cid-alice' });
});
afterAll(async () => {
  await boss?.close();
  await alice?.close();
  await server?.stop();
  await t?.drop();
});

describe('jobs through chat', () => {
  it('acks, reports throttled progress, then the result; /job shows it', async () => {
    // 40,000 jobs finished 40 days ago: the clean-up removes them 1,000 at a time, reporting progress.
    await t.db.query(
      `insert into jobs (kind, status, ready, payload, finished_at, created_at)
       select 'jobs_cleanup', 'succeeded', false, '{}', now() - interval '40 days', now() - interval '40 days' from generate_series(1, 40000)`,
    );
    const from = boss.replies.length;
    await boss.send('/cleanup');
    const ack = await boss.waitFor((r) => r.text.includes('已开始清理'), 10_000, from);
    const id = jobIdIn(ack.text);
    expect(id).toBeGreaterThan(0);
    const final = await boss.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('已完成'), 60_000, from);
    expect(final.text).toContain('删除了 40000 个过期任务');
    const progress = boss.replies.slice(from).filter((r) => r.text.includes(`任务 #${id}`) && r.text.includes('进度'));
    // Throttled: some progress, at most one message per interval of the job's run time, each one
    // at least 5 points further than the last (40 batches report progress 40 times).
    const job = await getJob(t.db, id);
    const ranMs = (job?.finishedAt?.getTime() ?? 0) - (job?.startedAt?.getTime() ?? 0);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(Math.floor(ranMs / 40) + 1);
    const pcts = progress.map((p) => Number(/(\d+)%/.exec(p.text)?.[1]));
    for (let i = 1; i < pcts.length; i++) expect((pcts[i] ?? 0) - (pcts[i - 1] ?? 0)).toBeGreaterThanOrEqual(5);
    expect(progress[0]?.text).toMatch(/[▓░]{10} \d+%/);
    expect(boss.replies.indexOf(final)).toBeGreaterThan(boss.replies.indexOf(progress[progress.length - 1] as never));

    const f2 = boss.replies.length;
    await boss.send(`/job ${id}`);
    const detail = await boss.waitFor(() => true, 10_000, f2);
    expect(detail.text).toContain(`任务 #${id}`);
    expect(detail.text).toContain('状态: 已完成');
    expect(detail.text).toContain('▓▓▓▓▓▓▓▓▓▓ 100%');
    expect(detail.text).toContain('删除了 40000 个过期任务');
    expect((await getJob(t.db, id))?.notifiedAt).toBeInstanceOf(Date);
  });

  it("lists my jobs, hides others' jobs from non-admins, shows everyone's to admins", async () => {
    const mine = await enqueue(t.db, {
      kind: 'jobs_cleanup',
      payload: { olderThanDays: 999 },
      requestedBy: 'alice',
      runAt: new Date(Date.now() + 3_600_000),
    });
    const from = alice.replies.length;
    await alice.send('/jobs');
    const list = await alice.waitFor(() => true, 10_000, from);
    expect(list.text).toContain(`#${mine.job.id}`);
    expect(list.text).not.toContain('boss');
    const f2 = alice.replies.length;
    const bossJob = (await t.db.query<{ id: number }>(`select id from jobs where requested_by = 'boss' limit 1`))[0]?.id;
    await alice.send(`/job ${bossJob}`);
    expect((await alice.waitFor(() => true, 10_000, f2)).text).toContain('没有找到任务');
    const f3 = boss.replies.length;
    await boss.send('/jobs all');
    const all = await boss.waitFor(() => true, 10_000, f3);
    expect(all.text).toContain(`#${mine.job.id}`);
    expect(all.text).toContain('所有人');
  });

  it('cancels a queued job, retries the cancelled one, and refuses to retry one that succeeded', async () => {
    const { job } = await enqueue(t.db, {
      kind: 'jobs_cleanup',
      payload: { olderThanDays: 999 },
      requestedBy: 'alice',
      runAt: new Date(Date.now() + 3_600_000),
    });
    let from = alice.replies.length;
    await alice.send(`/cancel ${job.id}`);
    expect((await alice.waitFor(() => true, 10_000, from)).text).toBe(`任务 #${job.id} 已取消。`);
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'cancelled' });
    // /job in Chinese: no English fragments (it used to say "错误: cancelled", "cancelled: cancelled").
    from = alice.replies.length;
    await alice.send(`/job ${job.id}`);
    const detail = (await alice.waitFor(() => true, 10_000, from)).text;
    expect(detail).toContain('状态: 已取消');
    expect(detail).toContain('alice 请求取消');
    expect(detail).not.toMatch(/cancelled|cancel_requested/);
    from = alice.replies.length;
    await alice.send(`/retry ${job.id}`);
    expect((await alice.waitFor(() => true, 10_000, from)).text).toContain('已重新排队');
    const done = await waitForStatus(t.db, job.id, ['succeeded'], 20_000);
    expect(done.attempts).toBe(1);
    from = alice.replies.length;
    await alice.send(`/retry ${job.id}`);
    expect((await alice.waitFor(() => true, 10_000, from)).text).toContain('只有失败或已取消的任务可以重试');
  });

  it('shows statistics per kind', async () => {
    const from = alice.replies.length;
    await alice.send('/stats hours=1');
    const stats = await alice.waitFor(() => true, 10_000, from);
    expect(stats.text).toMatch(/清理过期数据：成功 \d+，失败 0/);
    expect(stats.text).toMatch(/平均运行 [\d.]+ (毫秒|秒)，p95 [\d.]+ (毫秒|秒)（平均总耗时 /);
  });

  it('exposes jobs over HTTP with API tokens and in /metrics', async () => {
    const admin = await createApiToken(t.db, 'ops-dashboard', 'admin', 'test');
    const viewer = await createApiToken(t.db, 'viewer', 'viewer', 'test');
    const { job } = await enqueue(t.db, {
      kind: 'jobs_cleanup',
      payload: { olderThanDays: 999 },
      requestedBy: 'token:ops-dashboard',
      runAt: new Date(Date.now() + 3_600_000),
    });
    const get = (path: string, token: string, method = 'GET') =>
      fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const one = await get(`/api/jobs/${job.id}`, admin);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ job: { id: job.id, status: 'queued', kind: 'jobs_cleanup' }, events: [] });
    expect((await get(`/api/jobs/${job.id}`, viewer)).status).toBe(404); // not the viewer's job
    expect((await get(`/api/jobs/${job.id}/cancel`, viewer, 'POST')).status).toBe(403);
    const list = (await (await get('/api/jobs?status=queued&kind=jobs_cleanup', admin)).json()) as { jobs: { id: number }[] };
    expect(list.jobs.map((j) => j.id)).toContain(job.id);
    expect((await get('/api/jobs?status=nope', admin)).status).toBe(400);
    const cancel = await get(`/api/jobs/${job.id}/cancel`, admin, 'POST');
    expect(await cancel.json()).toMatchObject({ ok: true, before: 'queued', status: 'cancelled' });
    expect((await get(`/api/jobs/${job.id}/cancel`, admin, 'POST')).status).toBe(409);
    const retry = await get(`/api/jobs/${job.id}/retry`, admin, 'POST');
    expect(await retry.json()).toMatchObject({ ok: true, job: { status: 'queued' } });
    expect((await fetch(`${server.url}/api/jobs/${job.id}`)).status).toBe(401);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/chatops_jobs\{kind="jobs_cleanup",status="succeeded"\} \d+/);
    expect(metrics).toContain('# TYPE chatops_queue_depth gauge');
    expect(metrics).toMatch(/chatops_commands_total\{command="cleanup",outcome="ok"\} 1/);
    expect(metrics).toMatch(/chatops_job_duration_seconds_count\{kind="jobs_cleanup",status="succeeded"\} \d+/);
  });
});
