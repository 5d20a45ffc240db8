import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/http/tokens';
import { formatInZone } from '../../src/schedules/describe';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { freePort } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { type FakeRobot, startFakeRobot } from '../helpers/fake-robot';

// The main use: an export report scheduled from a group chat arrives by itself — the notice with
// the download link in that group, and at the task's custom group robot (a local server speaking
// the custom-robot API, signatures checked).
const TOKEN = 'sched-robot-token-0123456789';
const SIGN = 'SEC-schedule-robot-secret';
let t: TestDb;
let server: RunningServer;
let robot: FakeRobot;
let ops: LocalChat;

beforeAll(async () => {
  [t, robot] = await Promise.all([createTestDb('postgres'), startFakeRobot({ robots: { [TOKEN]: SIGN } })]);
  const port = await freePort();
  server = await testServer(t.db, {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ADMIN_STAFF_IDS: 'boss',
    OPERATOR_STAFF_IDS: 'op',
    DEFAULT_ROLE: 'viewer',
    DINGTALK_OAPI_BASE: robot.base,
  });
  ops = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'op', conversationId: 'cid-ops-reports' });
  const admin = await createApiToken(t.db, 'tasks-admin', 'admin', 'test');
  const made = await fetch(`${server.url}/hooks/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'job-kinds',
      source: 'app',
      sql: `select kind as "类型", count(*) as n from jobs where created_at < (:day::date + 1) group by kind order by kind`,
      params: [{ name: 'day', type: 'date', default: 'today' }],
      fileName: '任务种类_{date}',
      notice: '### {task_name} 日报\n\n{rows_count} 行 · [{filename}]({download_url})',
      targets: [{ type: 'requester' }, { type: 'robot', webhook: robot.webhook(TOKEN), secret: SIGN }],
    }),
  });
  expect(made.status, await made.clone().text()).toBe(201);
}, 60_000);
afterAll(async () => {
  await ops?.close();
  await server?.stop();
  await Promise.allSettled([robot?.close(), t?.drop()]);
});

async function ask(text: string) {
  const from = ops.replies.length;
  await ops.send(text);
  return (await ops.waitFor(() => true, 15_000, from)).text;
}

describe('scheduled export reports', () => {
  it('a schedule made in a group fires by itself: the notice with the link reaches the group and the robot', async () => {
    // Checked like /export run when added.
    expect(await ask('/schedule add nope cron "0 9 * * 1-5" export no-such-task')).toContain('no-such-task');
    const weekday = await ask('/schedule add kinds-daily cron "0 9 * * 1-5" export job-kinds day=yesterday');
    expect(weekday).toContain('已新建定时任务 kinds-daily：每个工作日 09:00（北京时间），执行「数据导出 job-kinds」');
    expect(await ask('/schedule list')).toMatch(/\*\*kinds-daily\*\* · 每个工作日 09:00（北京时间） · 数据导出 job-kinds · 下次 /);
    const [saved] = await t.db.query<{ payload: { task: string; typed: Record<string, string> } }>(
      `select payload from schedules where name = 'kinds-daily'`,
    );
    expect(saved?.payload).toMatchObject({ task: 'job-kinds', typed: { day: 'yesterday' } });

    // A one-shot a few seconds ahead (Beijing time), so the real scheduler fires it.
    const at = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
    const from = ops.replies.length;
    expect(await ask(`/schedule add kinds-now date "${formatInZone(at, 'Asia/Shanghai')}" export job-kinds`)).toContain(
      '已新建定时任务 kinds-now',
    );
    const notice = await ops.waitFor((r) => r.text.includes('job-kinds 日报'), 60_000, from);
    const link = /\((http[^)]+\/files\/[^)]+)\)/.exec(notice.text)?.[1] as string;
    expect(link).toBeTruthy();
    const file = await fetch(link);
    expect(file.status).toBe(200);
    expect(
      Buffer.from(await file.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');

    const post = await waitUntil(
      () => robot.posts.find((p) => p.token === TOKEN && p.body.markdown?.text.includes('job-kinds 日报')),
      30_000,
      'robot notice',
    );
    expect(post.body.markdown?.text).toContain('/files/');

    const [fire] = await t.db.query<{ fire_at: Date; reason: string; job_id: number }>(
      `select f.fire_at, f.reason, f.job_id from schedule_fires f join schedules s on s.id = f.schedule_id where s.name = 'kinds-now'`,
    );
    expect(fire?.fire_at.getTime()).toBe(at.getTime());
    expect(fire?.reason).toBe('scheduled');
    const history = await ask('/schedule history kinds-now');
    expect(history).toContain(`#${fire?.job_id} 已完成`);
    expect(history).toMatch(/\d+ 行 · \[下载\]\(http/);
  }, 90_000);

  it('a scheduled export binds its relative dates at each fire, not when it was added', async () => {
    const [s] = await t.db.query<{ id: number }>(`select id from schedules where name = 'kinds-daily'`);
    const ran = await ask('/schedule run kinds-daily');
    const jobId = Number(/任务 #(\d+)/.exec(ran)?.[1]);
    const [job] = await t.db.query<{ payload: { values: { day: string } } }>('select payload from jobs where id = $1', [jobId]);
    const yesterday = formatInZone(new Date(Date.now() - 86_400_000), 'Asia/Shanghai').slice(0, 10);
    expect(job?.payload.values.day).toBe(yesterday);
    expect(s?.id).toBeGreaterThan(0);
  });
});
