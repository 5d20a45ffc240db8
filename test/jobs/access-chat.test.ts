import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../src/jobs/queue';
import { getJob } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';

// One visibility rule (src/jobs/access.ts) for every job command, driven through the chat callback.
// vic is a viewer, olga and otto operators, boss an admin. olga started a job in group "g1".
let t: TestDb;
let server: RunningServer;
let g1: LocalChat; // the group the job was started in
let g2: LocalChat; // another group
let groupJob: number;

async function ask(chat: LocalChat, staffId: string, text: string): Promise<string> {
  const from = chat.replies.length;
  await chat.send(text, { staffId });
  return (await chat.waitFor(() => true, 10_000, from)).text;
}

beforeAll(async () => {
  t = await createTestDb('postgres');
  server = await testServer(t.db, { ADMIN_STAFF_IDS: 'boss', OPERATOR_STAFF_IDS: 'olga,otto', DEFAULT_ROLE: 'viewer', RUN_JOBS: 'false' });
  g1 = await createLocalChat({ url: server.url, secret: TEST_SECRET, conversationId: 'cid-g1', conversationType: 'group' });
  g2 = await createLocalChat({ url: server.url, secret: TEST_SECRET, conversationId: 'cid-g2', conversationType: 'group' });
  const { job } = await enqueue(t.db, {
    kind: 'jobs_cleanup',
    payload: { olderThanDays: 999 },
    requestedBy: 'olga',
    runAt: new Date(Date.now() + 3_600_000),
    replyTo: { conversationId: 'cid-g1', conversationType: 'group' },
  });
  groupJob = job.id;
});
afterAll(async () => {
  await g1?.close();
  await g2?.close();
  await server?.stop();
  await t?.drop();
});

describe('who may see and act on jobs, from chat', () => {
  it('refuses a viewer every operator and admin job command, and changes nothing', async () => {
    for (const cmd of [`/cancel ${groupJob}`, `/retry ${groupJob}`, '/cleanup', '/cleanup days=7']) {
      const reply = await ask(g1, 'vic', cmd);
      expect(reply, cmd).toMatch(/需要“.+”权限，你当前是“查看者”/);
    }
    expect(await getJob(t.db, groupJob)).toMatchObject({ status: 'queued', cancelRequested: false });
    expect((await t.db.query(`select count(*)::int as n from jobs where kind = 'jobs_cleanup'`))[0]).toEqual({ n: 1 });
  });

  it('answers that `/jobs all` and `/jobs user=` need admin, instead of ignoring them', async () => {
    for (const [staff, cmd, what] of [
      ['vic', '/jobs all', 'all'],
      ['otto', '/jobs all', 'all'],
      ['vic', '/jobs user=olga', 'user=olga'],
      ['otto', '/jobs failed user=boss', 'user=boss'],
    ] as const) {
      const reply = await ask(g1, staff, cmd);
      expect(reply, `${staff}: ${cmd}`).toContain(`“${what}”只有管理员可以用`);
      expect(reply).not.toContain(`#${groupJob}`);
    }
    const admin = await ask(g2, 'boss', '/jobs all');
    expect(admin).toContain(`#${groupJob}`);
    expect(admin).toContain('所有人');
  });

  it("shows a group's job to its members and admins, to nobody elsewhere", async () => {
    // In the group it was started in: visible to any member (its messages were posted there).
    expect(await ask(g1, 'vic', `/job ${groupJob}`)).toContain(`任务 #${groupJob}（清理过期数据）`);
    const list = await ask(g1, 'vic', '/jobs');
    expect(list).toContain(`#${groupJob}`);
    expect(list).toContain('我的和本群的');
    // From another group: not visible, not even its existence, except to an admin.
    expect(await ask(g2, 'vic', `/job ${groupJob}`)).toContain(`没有找到任务 #${groupJob}`);
    expect(await ask(g2, 'otto', `/job ${groupJob}`)).toContain(`没有找到任务 #${groupJob}`);
    expect(await ask(g2, 'otto', '/jobs')).not.toContain(`#${groupJob}`);
    expect(await ask(g2, 'boss', `/job ${groupJob}`)).toContain(`任务 #${groupJob}`);
    // /stats counts only what the asker may see.
    await t.db.query(`update jobs set status = 'succeeded', finished_at = now(), ready = false, attempts = 1, run_ms = 10 where id = $1`, [
      groupJob,
    ]);
    expect(await ask(g1, 'vic', '/stats')).toMatch(/你可见的任务统计[\s\S]*清理过期数据：成功 1/);
    expect(await ask(g2, 'vic', '/stats')).toContain('这段时间没有结束的任务');
    await t.db.query(`update jobs set status = 'queued', finished_at = null, ready = true, attempts = 0 where id = $1`, [groupJob]);
  });

  it('lets only the starter or an admin cancel or retry, even where the job is visible', async () => {
    // otto sees the job in g1 but did not start it.
    expect(await ask(g1, 'otto', `/cancel ${groupJob}`)).toBe(`任务 #${groupJob} 不是你发起的：只有发起人或管理员可以取消或重试它。`);
    expect(await ask(g1, 'otto', `/retry ${groupJob}`)).toContain('不是你发起的');
    expect(await getJob(t.db, groupJob)).toMatchObject({ status: 'queued', cancelRequested: false });
    expect(await ask(g1, 'olga', `/cancel ${groupJob}`)).toBe(`任务 #${groupJob} 已取消。`);
    expect(await ask(g2, 'boss', `/retry ${groupJob}`)).toContain('已重新排队');
  });
});
