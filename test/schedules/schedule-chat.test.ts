import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';

// Every /schedule action end to end through the signed DingTalk callback, replies read from the
// group's sessionWebhook, state read back from Postgres.
let t: TestDb;
let server: RunningServer;
let op: LocalChat;
let viewer: LocalChat;

const count = async () => Number((await t.db.query<{ n: number }>('select count(*)::int as n from schedules where not builtin'))[0]?.n);
const row = async (name: string) => (await t.db.query<Record<string, unknown>>('select * from schedules where name = $1', [name]))[0];

async function ask(chat: LocalChat, text: string) {
  const from = chat.replies.length;
  await chat.send(text);
  return (await chat.waitFor(() => true, 15_000, from)).text;
}

beforeAll(async () => {
  t = await createTestDb('postgres');
  server = await testServer(t.db, { DEFAULT_ROLE: 'viewer', OPERATOR_STAFF_IDS: 'op', PROGRESS_INTERVAL_MS: '50' });
  op = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'op', conversationId: 'cid-ops-group' });
  viewer = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'vera', conversationId: 'cid-ops-group' });
});
afterAll(async () => {
  await op?.close();
  await viewer?.close();
  await server?.stop();
  await t?.drop();
});

describe('/schedule through chat', () => {
  it('add: validates, replies in words with the next three fire times, delivers to this group', async () => {
    const reply = await ask(op, '/schedule add weekday-clean cron "0 9 * * 1-5" cleanup days=45');
    expect(reply).toContain('已新建定时任务 weekday-clean：每个工作日 09:00（北京时间）');
    const times = reply.match(/- \d{4}-\d{2}-\d{2} 09:00:00/g) ?? [];
    expect(times).toHaveLength(3);
    for (const line of times) {
      const day = new Date(`${line.slice(2, 12)}T12:00:00Z`).getUTCDay();
      expect(day).toBeGreaterThanOrEqual(1);
      expect(day).toBeLessThanOrEqual(5);
    }
    const r = await row('weekday-clean');
    expect(r).toMatchObject({
      kind: 'jobs_cleanup',
      type: 'cron',
      cron: '0 9 * * 1-5',
      timezone: 'Asia/Shanghai',
      state: 'active',
      owner: 'op',
    });
    expect(r?.payload).toEqual({ olderThanDays: 45 });
    expect(r?.reply_to).toMatchObject({ conversationId: 'cid-ops-group', conversationType: 'group' });
    // Armed in this instance (NOTIFY reload).
    await waitUntil(() => server.scheduler.armed().includes(Number(r?.id)), 10_000, 'schedule armed');
  });

  it('bad input gets a clear reply naming the problem, and nothing changes', async () => {
    const before = await count();
    // Which field, what was typed and its range, in the chat language (not node-cron's English).
    expect(await ask(op, '/schedule add bad1 cron "0 25 * * *" cleanup')).toMatch(
      /cron 表达式 0 25 \* \* \* 里的 25 不是有效的小时（0–23）。例如 "0 9 \* \* 1-5"/,
    );
    expect(await ask(op, '/schedule add bad2 cron "0 9 * * *" cleanup zone=Mars/Olympus')).toContain('时区 Mars/Olympus 不认识');
    expect(await ask(op, '/schedule add weekday-clean cron "0 10 * * *" cleanup')).toContain('已经有名为 weekday-clean 的定时任务');
    expect(await ask(op, '/schedule add bad3 cron "0 9 * * *" nosuchkind')).toContain('任务类型 nosuchkind 不存在');
    expect(await ask(op, '/schedule add bad4 date "2020-01-01 09:00" cleanup')).toContain('已经过去了');
    expect(await ask(op, '/schedule add bad5 cron "0 9 * * *" cleanup overlap=sometimes')).toContain('重叠策略 sometimes 不对');
    expect(await ask(viewer, '/schedule add sneaky cron "0 9 * * *" cleanup')).toMatch(/权限|operator|操作员/);
    expect(await count()).toBe(before);
    expect((await row('weekday-clean'))?.cron).toBe('0 9 * * 1-5');
  });

  it('list and show (viewers may look)', async () => {
    const list = await ask(viewer, '/schedule list');
    expect(list).toContain('**weekday-clean**');
    expect(list).toContain('**retention-cleanup**（内置）');
    const show = await ask(viewer, '/schedule show weekday-clean');
    expect(show).toContain('定时任务 weekday-clean');
    expect(show).toContain('每个工作日 09:00（北京时间） `0 9 * * 1-5`');
    expect(show).toContain('运行 0 次');
    expect(show).toContain('接下来三次');
  });

  it('pause, resume, stop, start change the state the scheduler reads', async () => {
    const id = Number((await row('weekday-clean'))?.id);
    expect(await ask(op, '/schedule pause weekday-clean')).toContain('已暂停定时任务 weekday-clean');
    expect((await row('weekday-clean'))?.state).toBe('paused');
    await waitUntil(() => !server.scheduler.armed().includes(id), 10_000, 'disarmed');
    expect(await ask(op, '/schedule pause weekday-clean')).toContain('现在是 paused，不能 pause');
    expect(await ask(op, '/schedule resume weekday-clean')).toContain('已恢复定时任务 weekday-clean');
    await waitUntil(() => server.scheduler.armed().includes(id), 10_000, 're-armed');
    expect(await ask(op, '/schedule stop weekday-clean')).toContain('已停止定时任务 weekday-clean');
    expect((await row('weekday-clean'))?.state).toBe('stopped');
    expect(await ask(op, '/schedule start weekday-clean')).toContain('已启动定时任务 weekday-clean');
    expect((await row('weekday-clean'))?.state).toBe('active');
  });

  it('run now: a job for the schedule, its result delivered to the group; history and show count it', async () => {
    const from = op.replies.length;
    const reply = await ask(op, '/schedule run weekday-clean');
    const jobId = Number(/任务 #(\d+)/.exec(reply)?.[1]);
    expect(jobId).toBeGreaterThan(0);
    const final = await op.waitFor((r) => r.text.includes(`任务 #${jobId}`) && r.text.includes('已完成'), 30_000, from);
    expect(final.text).toContain('删除了');
    const [job] = await t.db.query<Record<string, unknown>>('select * from jobs where id = $1', [jobId]);
    expect(job?.schedule_id).toBe(Number((await row('weekday-clean'))?.id));
    expect(String(job?.dedupe_key)).toMatch(/^schedule:\d+:\d{4}-\d{2}-\d{2}T/);
    const history = await ask(op, '/schedule history weekday-clean');
    expect(history).toContain(`#${jobId} 已完成`);
    expect(history).toContain('(手动)');
    const show = await ask(op, '/schedule show weekday-clean');
    expect(show).toContain('运行 1 次：成功 1，失败 0，成功率 100%');
  });

  it('edit re-times it and checks like add; rm removes it; built-ins stay', async () => {
    expect(await ask(op, '/schedule edit weekday-clean cron="0 18 * * 1-5" grace=10m overlap=queue')).toContain(
      '每个工作日 18:00（北京时间）',
    );
    expect(await row('weekday-clean')).toMatchObject({ cron: '0 18 * * 1-5', misfire_grace_sec: 600, overlap: 'queue' });
    expect(await ask(op, '/schedule edit weekday-clean zone=Nowhere/Land')).toContain('时区 Nowhere/Land 不认识');
    expect((await row('weekday-clean'))?.timezone).toBe('Asia/Shanghai');
    expect(await ask(op, '/schedule rm retention-cleanup')).toContain('是内置定时任务，不能删除');
    expect(await ask(op, '/schedule reload')).toContain('重新加载');
    expect(await ask(op, '/schedule rm weekday-clean')).toContain('已删除定时任务 weekday-clean');
    expect(await row('weekday-clean')).toBeUndefined();
    expect(await ask(op, '/schedule show weekday-clean')).toContain('没有名为 weekday-clean 的定时任务');
  });

  it('manual and date schedules', async () => {
    expect(await ask(op, '/schedule add on-demand manual cleanup')).toContain('只手动运行');
    expect(await row('on-demand')).toMatchObject({ type: 'manual', kind: 'jobs_cleanup', next_fire_at: null });
    const reply = await ask(op, '/schedule add once date "2030-01-02 09:30" cleanup zone=Europe/Berlin');
    expect(reply).toContain('一次：2030-01-02 09:30:00（Europe/Berlin）');
    expect((await row('once'))?.run_at).toEqual(new Date('2030-01-02T08:30:00.000Z'));
  });
});
