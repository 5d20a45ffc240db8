import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/http/tokens';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { freePort } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { type FakeRobot, startFakeRobot } from '../helpers/fake-robot';
import { waitForStatus } from '../helpers/jobs';
import { startSmtp } from '../helpers/smtp';

// An export's notice reaches every delivery target of its task: the requester's chat (final
// message), a signed custom group robot and e-mail with the file attached; a failure too.
const TOKEN = 'robot-token-0123456789abcdef';
const SIGN = 'SEC-export-robot-secret-xyz';
let t: TestDb;
let server: RunningServer;
let robot: FakeRobot;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let boss: LocalChat;
let h: Record<string, string>;

const until = async <T>(f: () => T | undefined, ms = 20_000): Promise<T> => {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  [t, robot, smtp] = await Promise.all([createTestDb('postgres'), startFakeRobot({ robots: { [TOKEN]: SIGN } }), startSmtp()]);
  const port = await freePort();
  server = await testServer(t.db, {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ADMIN_STAFF_IDS: 'boss',
    DINGTALK_OAPI_BASE: robot.base,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_SECURE: 'off',
    SMTP_FROM: 'bot@example.com',
  });
  boss = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'boss' });
  h = { authorization: `Bearer ${await createApiToken(t.db, 'notices-admin', 'admin', 'test')}`, 'content-type': 'application/json' };
}, 60_000);
afterAll(async () => {
  await boss?.close();
  await server?.stop();
  await Promise.allSettled([robot?.close(), smtp?.close(), t?.drop()]);
});

describe('export notices', () => {
  it('the robot (signed) and e-mail (file attached) receive the templated notice; secrets are stored sealed', async () => {
    const made = await fetch(`${server.url}/hooks/tasks`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        name: 'kinds',
        source: 'app',
        sql: `select kind as "类型", count(*) as n from jobs group by kind order by kind`,
        fileName: '任务种类_{date}',
        notice: '### {task_name} 完成\n\n{rows_count} 行 · {file_size} · [{filename}]({download_url})',
        targets: [
          { type: 'requester' },
          { type: 'robot', webhook: robot.webhook(TOKEN), secret: SIGN },
          { type: 'email', to: ['ops@example.com'] },
        ],
      }),
    });
    expect(made.status, await made.clone().text()).toBe(201);
    const spec = JSON.stringify(await t.db.query(`select spec from export_tasks where name = 'kinds'`));
    expect(spec).not.toContain(TOKEN);
    expect(spec).not.toContain(SIGN);

    const from = boss.replies.length;
    await boss.send('/export run kinds');
    const ack = await boss.waitFor((r) => /已受理导出任务 #\d+/.test(r.text), 10_000, from);
    const id = Number(/#(\d+)/.exec(ack.text)?.[1]);
    const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('已完成'), 30_000, from);
    expect(final.text).toMatch(/### kinds 完成\n\n\d+ 行 · [\d.]+ ?\w*B · \[任务种类_\d{4}-\d{2}-\d{2}\.xlsx\]\(http/);
    // Its template leaves out the expiry and the duration: the requester still gets both, once.
    expect(final.text.match(/链接 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} 前有效。/g)).toHaveLength(1);
    expect(final.text.match(/用时 /g)).toHaveLength(1);

    const post = await until(() => robot.posts.find((p) => p.token === TOKEN));
    expect(post.body.msgtype).toBe('markdown');
    expect(post.body.markdown?.text).toContain('kinds 完成');
    const url = /\((http[^)]+\/files\/[^)]+)\)/.exec(post.body.markdown?.text ?? '')?.[1] as string;
    expect((await fetch(url)).status).toBe(200);

    const mail = await until(() => smtp.mails[0]);
    expect(mail.subject).toContain('kinds 完成');
    expect(mail.attachments[0]?.filename).toMatch(/^任务种类_\d{4}-\d{2}-\d{2}\.xlsx$/);
    expect(mail.attachments[0]?.content.subarray(0, 2).toString()).toBe('PK'); // a zip: the .xlsx itself
    const job = await waitForStatus(t.db, id, ['succeeded']);
    expect((job.result as { notices: number }).notices).toBe(2);
  });

  it('a failed export is announced to the robot with the job id and what to do', async () => {
    const made = await fetch(`${server.url}/hooks/tasks`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        name: 'broken',
        source: 'app',
        sql: 'select * from no_such_table',
        targets: [{ type: 'robot', webhook: robot.webhook(TOKEN), secret: SIGN }],
      }),
    });
    expect(made.status).toBe(201);
    const before = robot.posts.length;
    await boss.send('/export run broken');
    const post = await until(() => robot.posts.slice(before).find((p) => p.body.markdown?.text.includes('执行失败')));
    const id = Number(/#(\d+)/.exec(post.body.markdown?.text ?? '')?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(post.body.markdown?.text).toContain('no_such_table');
    expect(post.body.markdown?.text).toContain(`/retry ${id}`);
    await waitForStatus(t.db, id, ['failed']);
  });

  it('a bad template or robot URL is refused when the task is saved, naming the field', async () => {
    const bad = await fetch(`${server.url}/hooks/tasks`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ name: 'badtpl', source: 'app', sql: 'select 1', notice: '{task_nme} done' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('task_name');
    const badUrl = await fetch(`${server.url}/hooks/tasks`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        name: 'badurl',
        source: 'app',
        sql: 'select 1',
        targets: [{ type: 'robot', webhook: 'https://evil.example.com/robot/send?access_token=x' }],
      }),
    });
    expect(badUrl.status).toBe(400);
    expect(((await badUrl.json()) as { error: { field: string } }).error.field).toBe('webhook');
    expect((await t.db.query(`select 1 from export_tasks where name in ('badtpl', 'badurl')`)).length).toBe(0);
  });
});
