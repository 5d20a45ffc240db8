import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { type FakeRobot, startFakeRobot } from '../helpers/fake-robot';
import { startSmtp } from '../helpers/smtp';

const TOKEN = 'clirobottoken01';
const SECRET = 'SECcli-robot-secret-1';

describe('npm run cli -- notice …', () => {
  let tdb: TestDb;
  let robot: FakeRobot;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    [tdb, robot, smtp] = await Promise.all([createTestDb('postgres'), startFakeRobot({ robots: { [TOKEN]: SECRET } }), startSmtp()]);
    env = {
      DATABASE_URL: tdb.url as string,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'notice-cli-')),
      DINGTALK_OAPI_BASE: robot.base,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURE: 'off',
      SMTP_FROM: 'bot@example.com',
    };
  });
  afterAll(async () => {
    await Promise.all([tdb.drop(), robot.close(), smtp.close()]);
  });

  it('sends a signed test message to a group robot, and explains a wrong secret', async () => {
    const ok = await runScript('src/cli.ts', ['notice', 'test', 'robot', robot.webhook(TOKEN), '--secret', SECRET], env);
    expect(ok.stdout).toContain('robot accepted the test message');
    expect(ok.code).toBe(0);
    expect(robot.posts.at(-1)?.body.markdown?.text).toContain('示例任务');
    const bad = await runScript('src/cli.ts', ['notice', 'test', 'robot', robot.webhook(TOKEN), '--secret', 'SECwrong-secret-00'], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('310000 sign not match');
    expect(bad.stdout).toContain('加签密钥');
    const notOurs = await runScript(
      'src/cli.ts',
      ['notice', 'test', 'robot', 'https://example.com/robot/send?access_token=abcdefgh1234'],
      env,
    );
    expect(notOurs.code).toBe(1);
    expect(notOurs.stdout).toContain('群机器人地址不对');
    expect(notOurs.stdout).not.toContain('abcdefgh1234');
  });

  it('checks a template and sends a test e-mail', async () => {
    const bad = await runScript('src/cli.ts', ['notice', 'template', '{task_name} 共 {rowcount} 行'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('{rowcount} 不存在，你是不是想用 {rows_count}');
    const good = await runScript('src/cli.ts', ['notice', 'template', '### {task} 完成\n共 {rows_count} 行'], env);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('共 1,234 行');
    const mail = await runScript('src/cli.ts', ['notice', 'test', 'email', 'ops@example.com'], env);
    expect(mail.stdout).toContain('test e-mail accepted');
    expect(smtp.mails.at(-1)?.to).toMatchObject({ text: 'ops@example.com' });
  });

  it('lists failed deliveries and queues one again', async () => {
    await tdb.db.query(
      `insert into notice_deliveries (job_id, channel, target, message, status, attempts, last_error)
       values (77, 'email', '{"kind":"email","to":["ops@example.com"]}', '{}', 'failed', 8, '550 mailbox unavailable')`,
    );
    const list = await runScript('src/cli.ts', ['notice', 'list', '--failed'], env);
    expect(list.stdout).toMatch(/#(\d+)\tjob 77\temail\tops@example.com\tfailed\t8 attempts\t.*550 mailbox unavailable/);
    const id = /#(\d+)\tjob 77/.exec(list.stdout)?.[1] as string;
    const retry = await runScript('src/cli.ts', ['notice', 'retry', id], env);
    expect(retry.stdout).toContain(`delivery #${id} queued again`);
    const [row] = await tdb.db.query<{ status: string; attempts: number }>('select status, attempts from notice_deliveries where id = $1', [
      Number(id),
    ]);
    expect(row).toEqual({ status: 'pending', attempts: 0 });
    expect((await runScript('src/cli.ts', ['notice', 'retry', id], env)).code).toBe(1);
  });
});
