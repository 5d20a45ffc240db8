import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client';
import type { Deps } from '../../src/deps';
import { UserError } from '../../src/errors';
import { createNotices, type Notices } from '../../src/notify';
import { enqueueNotice, listDeliveries, retryDelivery } from '../../src/notify/outbox';
import { blockRobot, clearRobotStrikes, settleRobotSlot, takeRobotSlot } from '../../src/notify/robot-window';
import { createDeliveryTarget, type DeliveryTarget, openRobotCredentials, type TaskTarget } from '../../src/notify/targets';
import type { ReplyTarget } from '../../src/outbound';
import { createTestDb, DB_KINDS, type DbKind, type TestDb } from '../helpers/db';
import { testConfig, testDeps } from '../helpers/deps';
import { startFakeDingTalk, waitUntil } from '../helpers/fake-dingtalk';
import { type FakeRobot, startFakeRobot } from '../helpers/fake-robot';
import { testSecretBox } from '../helpers/secret-box';
import { startSmtp } from '../helpers/smtp';

const TOKEN = 'robottoken0001';
const SECRET = 'SECtest-webhook-secret0';
const PLAIN_TOKEN = 'plainrobot0002';
const QUIET_TOKEN = 'quietrobot0003';
const TUNING = {
  pollMs: 200,
  retryBaseMs: 40,
  retryMaxMs: 200,
  robotWindowMs: 1500,
  robotMarginMs: 150,
  throttleBaseMs: 300,
  throttleMaxMs: 1000,
};

let robot: FakeRobot;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const box = testSecretBox();
const open: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  robot = await startFakeRobot({ robots: { [TOKEN]: SECRET, [PLAIN_TOKEN]: undefined, [QUIET_TOKEN]: SECRET }, limit: 20, windowMs: 1500 });
  smtp = await startSmtp();
});
afterAll(async () => {
  await robot.close();
  await smtp.close();
});
afterEach(async () => {
  // A test that leaves a sender loop running fails here (and stops it).
  const left = open.splice(0);
  for (const n of left) await n.stop();
});

function env(over: Record<string, string> = {}) {
  return {
    DINGTALK_OAPI_BASE: robot.base,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_SECURE: 'off',
    SMTP_FROM: 'bot@example.com',
    NOTICE_MAX_ATTEMPTS: '3',
    ...over,
  };
}

const metricsOf = new WeakMap<Notices, Deps['metrics']>();

function startNotices(db: TestDb['db'], over: Record<string, string> = {}): Notices {
  const deps = testDeps(db, env(over));
  const n = createNotices(deps, { box, tuning: TUNING });
  metricsOf.set(n, deps.metrics);
  open.push(n);
  return n;
}

function requester(session: string): ReplyTarget {
  return {
    conversationId: `cid${session}`,
    conversationType: 'group',
    sessionWebhook: robot.sessionWebhook(session),
    sessionWebhookExpiresAt: Date.now() + 90 * 60_000,
    staffId: 'alice',
  };
}

function robotTarget(token = TOKEN, secret: string | null = SECRET): DeliveryTarget {
  return createDeliveryTarget({ kind: 'robot', webhook: robot.webhook(token), secret: secret ?? undefined }, { box, oapiBase: robot.base });
}

const facts = (jobId: number) => ({
  taskName: '用户数据导出',
  executedAt: Date.UTC(2025, 7, 12, 7, 30, 0),
  outcome: 'succeeded' as const,
  rows: 1000,
  bytes: 2_621_440,
  durationMs: 3200,
  filename: '导出_20250812.xlsx',
  downloadUrl: `https://bot.example.com/files/${jobId}?sig=abc`,
  jobId,
});

async function statuses(db: TestDb['db'], jobId: number) {
  return (await listDeliveries(db, { jobId })).map((d) => d.status).sort();
}

describe.each(DB_KINDS)('notices on %s', (kind: DbKind) => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb(kind);
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it('delivers one notice to the requester, a signed group robot and e-mail with the file attached', async () => {
    const notices = startNotices(tdb.db);
    await notices.start();
    const file = `${testConfig().DATA_DIR}/导出_20250812.xlsx`;
    writeFileSync(file, 'PK fake xlsx bytes');
    const session = `s-${kind}-1`;
    const req = {
      jobId: 101,
      facts: facts(101),
      // The exports task schema's spelling ({ type: … }) and notify's own ({ kind: … }) both work.
      targets: [{ type: 'requester' }, robotTarget(), { type: 'email', to: ['ops@example.com', 'dev@example.com'] }] as (
        | DeliveryTarget
        | TaskTarget
      )[],
      requester: requester(session),
      attachment: { path: file, filename: '导出_20250812.xlsx' },
    };
    const ids = await notices.enqueue(req);
    expect(ids).toHaveLength(3);
    // A retried job enqueues again (here from a handler, without the service): nothing is added.
    expect(await enqueueNotice(testDeps(tdb.db, env()), req)).toEqual([]);
    await waitUntil(async () => (await statuses(tdb.db, 101)).every((s) => s === 'sent'), 15_000, 'all three delivered');

    const posted = robot.posts.filter((p) => p.msgUuid === `notice-${ids[1]}`);
    expect(posted).toHaveLength(1);
    expect(posted[0]?.body.markdown?.title).toBe('📊 用户数据导出 执行完成');
    expect(posted[0]?.body.markdown?.text).toContain('**数据行数**: 1,000');
    expect(posted[0]?.body.markdown?.text).toContain('**执行时间**: 2025-08-12 15:30:00');
    expect(posted[0]?.body.markdown?.text).toContain('[下载文件](https://bot.example.com/files/101?sig=abc)');

    const inChat = robot.sessionPosts.filter((p) => p.session === session);
    expect(inChat).toHaveLength(1);
    expect(inChat[0]?.body.markdown.text).toContain('**文件大小**: 2.5MB');

    const mail = smtp.mails.find((m) => m.messageId === `<notice-${ids[2]}@chatops-bot>`);
    expect(mail?.subject).toBe('📊 用户数据导出 执行完成');
    expect(mail?.text).toContain('数据行数: 1,000');
    expect(mail?.html).toContain('<strong>执行耗时</strong>: 3.2秒');
    expect(mail?.attachments.map((a) => a.filename)).toEqual(['导出_20250812.xlsx']);
    expect(mail?.attachments[0]?.content.toString()).toBe('PK fake xlsx bytes');

    // The robot's token and secret are never stored in clear.
    const raw = JSON.stringify(await tdb.db.query('select * from notice_deliveries'));
    expect(raw).not.toContain(TOKEN);
    expect(raw).not.toContain(SECRET);
    const metrics = await metricsOf.get(notices)?.render();
    expect(metrics).toMatch(/chatops_notice_deliveries_total\{.*channel="robot".*\} 1/);
    expect(metrics).toMatch(/chatops_notice_outbox\{status="sent"\} 3/);
    await notices.stop();
  });

  it('writes nothing when the transaction it was enqueued in rolls back', async () => {
    const notices = startNotices(tdb.db);
    await expect(
      tdb.db.orm.transaction(async (tx) => {
        await notices.enqueue({ jobId: 102, facts: facts(102), targets: [robotTarget()] }, { tx: tx as never });
        throw new Error('the job result could not be written');
      }),
    ).rejects.toThrow(/could not be written/);
    expect(await statuses(tdb.db, 102)).toEqual([]);
  });
});

describe('notice delivery against a real Postgres', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await createTestDb('postgres');
  });
  afterAll(async () => {
    await tdb.drop();
  });

  it('keeps every robot under 20 a window across two instances, waits out 130101 together, and loses nothing', async () => {
    const a = startNotices(tdb.db);
    // A second instance: its own connection pool to the same database.
    const otherDb = await createDb({ url: tdb.url, poolSize: 3 });
    const b = createNotices(testDeps(otherDb, env()), { box, tuning: TUNING });
    open.push({ stop: () => b.stop().then(() => otherDb.close()) });
    const target = robotTarget(PLAIN_TOKEN, null);
    for (let i = 0; i < 25; i++) await a.enqueue({ jobId: 200 + i, facts: facts(200 + i), targets: [target] });
    // Someone else used 5 of this robot's 20 (DingTalk answers 130101 before our count says so), and
    // the first request is answered "too fast" whatever the count.
    for (let i = 0; i < 5; i++)
      await fetch(robot.webhook(PLAIN_TOKEN), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"msgtype":"text","text":{"content":"x"}}',
      });
    robot.fail({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
    await Promise.all([a.start(), b.start()]);
    await waitUntil(
      async () => {
        const rows = await tdb.db.query<{ n: number }>(
          `select count(*)::int as n from notice_deliveries where status = 'sent' and job_id between 200 and 224`,
        );
        return rows[0]?.n === 25;
      },
      30_000,
      '25 robot notices sent',
    );
    const ours = robot.posts.filter((p) => p.token === PLAIN_TOKEN && p.msgUuid);
    expect(ours).toHaveLength(25);
    expect(new Set(ours.map((p) => p.msgUuid)).size).toBe(25);
    const answers = robot.answers.filter((x) => x.token === PLAIN_TOKEN);
    const throttled = answers.filter((x) => x.errcode === 130101);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    expect(throttled.length).toBeLessThanOrEqual(6);
    expect(robot.maxInWindow(PLAIN_TOKEN)).toBeLessThanOrEqual(20);
    const m = await metricsOf.get(a)?.render();
    expect(m).toMatch(/chatops_notice_deliveries_total\{.*outcome="wait".*\} [1-9]/);
  });

  it('shares the window and a 130101 block between instances (two connection pools)', async () => {
    const otherDb = await createDb({ url: tdb.url, poolSize: 2 });
    try {
      const key = 'window-test-robot';
      for (let i = 0; i < 3; i++) expect(await takeRobotSlot(i % 2 ? otherDb : tdb.db, key, 3, 60_000)).toMatchObject({ granted: true });
      // A finished request's stamp moves to its answer time (DingTalk counts on arrival, after our slot).
      const late = await takeRobotSlot(tdb.db, 'settle-test-robot', 3, 60_000);
      if (!late.granted) throw new Error('expected a slot');
      await settleRobotSlot(otherDb, 'settle-test-robot', late.stamp);
      const [w] = await tdb.db.query<{ moved: boolean }>(
        `select stamps[1] > $1::timestamptz as moved from notice_robot_windows where robot_key = 'settle-test-robot'`,
        [late.stamp],
      );
      expect(w?.moved).toBe(true);
      const full = await takeRobotSlot(otherDb, key, 3, 60_000);
      expect(full.granted).toBe(false);
      expect(full.granted === false && full.waitMs > 55_000 && full.waitMs <= 60_000).toBe(true);
      const other = 'block-test-robot';
      expect(await takeRobotSlot(tdb.db, other, 20, 60_000)).toMatchObject({ granted: true });
      expect(await blockRobot(tdb.db, other, 300, 600_000)).toBeGreaterThan(250);
      const blocked = await takeRobotSlot(otherDb, other, 20, 60_000);
      expect(blocked.granted === false && blocked.waitMs > 200).toBe(true);
      // More 130101 answers to requests already in flight: the same block, not a longer one.
      expect(await blockRobot(otherDb, other, 300, 600_000)).toBeLessThanOrEqual(300);
      // The next strike after the block ended doubles it; a success clears the strikes.
      await waitUntil(async () => (await takeRobotSlot(otherDb, other, 20, 60_000)).granted, 5000, 'block over');
      expect(await blockRobot(otherDb, other, 300, 600_000)).toBeGreaterThan(500);
      await clearRobotStrikes(tdb.db, other);
      expect(await takeRobotSlot(otherDb, other, 20, 60_000)).toMatchObject({ granted: true });
    } finally {
      await otherDb.close();
    }
  });

  it('queues past the limit by itself: 30 notices to one robot, no 130101 at all, at most 20 per window', async () => {
    const notices = startNotices(tdb.db);
    const target = robotTarget(QUIET_TOKEN);
    for (let i = 0; i < 30; i++) await notices.enqueue({ jobId: 250 + i, facts: facts(250 + i), targets: [target] });
    await notices.start();
    const sentCount = async () =>
      (
        await tdb.db.query<{ n: number }>(
          `select count(*)::int as n from notice_deliveries where status = 'sent' and job_id between 250 and 279`,
        )
      )[0]?.n;
    await waitUntil(async () => (await sentCount()) === 30, 30_000, 'all 30 sent');
    expect(robot.posts.filter((p) => p.token === QUIET_TOKEN)).toHaveLength(30);
    expect(robot.answers.filter((x) => x.token === QUIET_TOKEN && x.errcode !== 0)).toEqual([]);
    expect(robot.maxInWindow(QUIET_TOKEN)).toBe(20);
  });

  it('retries a lost answer with the same msgUuid (posted once) and a busy robot (-1)', async () => {
    const notices = startNotices(tdb.db);
    robot.fail('drop-after-accept', { errcode: -1, errmsg: '系统繁忙' });
    const [id] = await notices.enqueue({ jobId: 300, facts: facts(300), targets: [robotTarget()] });
    await notices.start();
    await waitUntil(async () => (await statuses(tdb.db, 300))[0] === 'sent', 15_000, 'sent after retries');
    expect(robot.posts.filter((p) => p.msgUuid === `notice-${id}`)).toHaveLength(1);
    const [row] = await listDeliveries(tdb.db, { jobId: 300 });
    expect(row?.attempts).toBe(3);
  });

  it('fails a wrong signing secret at once and tells the requester which target and what to fix', async () => {
    const notices = startNotices(tdb.db);
    await notices.start();
    const session = 'wrong-secret';
    await notices.enqueue({
      jobId: 301,
      facts: facts(301),
      targets: [robotTarget(TOKEN, 'SECnot-the-right-one')],
      requester: requester(session),
    });
    await waitUntil(async () => (await statuses(tdb.db, 301))[0] === 'failed', 15_000, 'marked failed');
    const [row] = await listDeliveries(tdb.db, { jobId: 301 });
    expect(row).toMatchObject({ attempts: 1, channel: 'robot', label: `…${TOKEN.slice(-6)}` });
    expect(row?.lastError).toContain('310000 sign not match');
    const told = await waitUntil(() => robot.sessionPosts.find((p) => p.session === session), 10_000, 'failure announced');
    expect(told.body.text.content).toContain('任务 #301');
    expect(told.body.text.content).toContain('310000 sign not match');
    expect(told.body.text.content).toContain('加签密钥');
    expect(told.body.text.content).not.toContain(TOKEN);
    // Once fixed, a failed delivery can be queued again.
    await notices.stop();
    expect(await retryDelivery(tdb.db, row?.id ?? 0)).toBe(true);
    expect(await statuses(tdb.db, 301)).toEqual(['pending']);
  });

  it('sends to a group through the app robot OpenAPI, and takes over a delivery whose sender died', async () => {
    const fake = await startFakeDingTalk();
    try {
      const deps = testDeps(tdb.db, env({ DINGTALK_CLIENT_ID: 'dingapp', DINGTALK_API_BASE: fake.apiBase }));
      const notices = createNotices(deps, { box, tuning: TUNING });
      open.push(notices);
      const [id] = await notices.enqueue({
        jobId: 500,
        facts: facts(500),
        targets: [{ type: 'group', conversationId: 'cidOpsGroup==' }],
      });
      // As if another instance claimed it and died: 'sending' with a lease that has run out.
      await tdb.db.query(
        `update notice_deliveries set status = 'sending', attempts = 1, locked_until = now() - interval '1 second' where id = $1`,
        [id],
      );
      await notices.start();
      await waitUntil(async () => (await statuses(tdb.db, 500))[0] === 'sent', 15_000, 'group notice sent');
      const send = fake.sends.find((s) => s.body.openConversationId === 'cidOpsGroup==');
      expect(send?.path).toBe('/v1.0/robot/groupMessages/send');
      expect(send?.body.msgKey).toBe('sampleMarkdown');
      expect(send?.param.text).toContain('**数据行数**: 1,000');
      const [row] = await listDeliveries(tdb.db, { jobId: 500 });
      expect(row?.attempts).toBe(2);
      await notices.stop();
    } finally {
      await fake.close();
    }
  });

  it('retries a temporary SMTP refusal, and gives up on a permanent one', async () => {
    const notices = startNotices(tdb.db);
    await notices.start();
    smtp.reject(451);
    const [ok] = await notices.enqueue({ jobId: 400, facts: facts(400), targets: [{ kind: 'email', to: ['ops@example.com'] }] });
    await waitUntil(async () => (await statuses(tdb.db, 400))[0] === 'sent', 15_000, 'mail sent after a 451');
    expect(smtp.mails.filter((m) => m.messageId === `<notice-${ok}@chatops-bot>`)).toHaveLength(1);
    smtp.reject(550);
    await notices.enqueue({ jobId: 401, facts: facts(401), targets: [{ kind: 'email', to: ['nobody@example.com'] }] });
    await waitUntil(async () => (await statuses(tdb.db, 401))[0] === 'failed', 15_000, 'mail failed on 550');
    const [row] = await listDeliveries(tdb.db, { jobId: 401 });
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toMatch(/^550/);
  });

  it('sends the attachment as a link only when the file is over the size limit', async () => {
    const notices = startNotices(tdb.db, { SMTP_MAX_ATTACHMENT_BYTES: '4' });
    await notices.start();
    const file = `${testConfig().DATA_DIR}/big.csv`;
    writeFileSync(file, 'a,b\n1,2\n');
    const [id] = await notices.enqueue({
      jobId: 402,
      facts: facts(402),
      targets: [{ kind: 'email', to: ['ops@example.com'] }],
      attachment: { path: file, filename: 'big.csv' },
    });
    const mail = await waitUntil(() => smtp.mails.find((m) => m.messageId === `<notice-${id}@chatops-bot>`), 15_000, 'mail');
    expect(mail.attachments).toHaveLength(0);
    expect(mail.text).toContain('https://bot.example.com/files/402?sig=abc');
  });
});

describe('delivery targets', () => {
  const opts = { box, oapiBase: 'https://oapi.dingtalk.com' };
  const bad = (input: unknown): UserError => {
    try {
      createDeliveryTarget(input, opts);
    } catch (err) {
      if (err instanceof UserError) return err;
      throw err;
    }
    throw new Error('expected a UserError');
  };

  it('accepts the official webhook and seals its token and secret', () => {
    const t = createDeliveryTarget(
      { kind: 'robot', webhook: 'https://oapi.dingtalk.com/robot/send?access_token=abcdef123456', secret: 'SEC0123456789abcdef' },
      opts,
    );
    expect(t).toMatchObject({ kind: 'robot', label: '…123456' });
    expect(JSON.stringify(t)).not.toContain('abcdef123456');
    expect(JSON.stringify(t)).not.toContain('SEC0123456789abcdef');
    expect(openRobotCredentials(t as { webhookEnc: string }, box)).toEqual({ accessToken: 'abcdef123456', secret: 'SEC0123456789abcdef' });
    expect(createDeliveryTarget({ kind: 'email', to: 'a@example.com，b@example.com a@example.com' }, opts)).toEqual({
      kind: 'email',
      to: ['a@example.com', 'b@example.com'],
    });
  });

  it('refuses bad targets naming the field', () => {
    expect(bad({ kind: 'robot', webhook: 'http://oapi.dingtalk.com/robot/send?access_token=abcdef123456' })).toMatchObject({
      field: 'webhook',
    });
    expect(bad({ kind: 'robot', webhook: 'https://evil.example.com/robot/send?access_token=abcdef123456' })).toMatchObject({
      field: 'webhook',
    });
    expect(
      bad({ kind: 'robot', webhook: 'https://oapi.dingtalk.com/robot/send?access_token=abcdef123456', secret: 'nope nope' }),
    ).toMatchObject({
      field: 'secret',
    });
    expect(bad({ kind: 'email', to: 'ops@example.com, not-an-address' })).toMatchObject({ field: 'to', vars: { value: 'not-an-address' } });
    expect(bad({ kind: 'group', openConversationId: 'x' })).toMatchObject({ field: 'openConversationId' });
    expect(bad({ kind: 'fax' })).toMatchObject({ field: 'kind' });
    // The error text never repeats a whole token.
    expect(JSON.stringify(bad({ kind: 'robot', webhook: 'https://x.example.com/robot/send?access_token=supersecrettoken' }))).not.toContain(
      'supersecrettoken',
    );
  });
});
