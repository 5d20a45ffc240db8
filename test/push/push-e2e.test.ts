import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/http/tokens';
import { getJob } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { AMQP_URL, collect, connectBroker, dropQueue, uniqueQueue } from '../helpers/amqp';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';

// Order pushes end to end: chat callback -> job -> render -> the real RabbitMQ -> a consumer.
let t: TestDb;
let server: RunningServer;
let chat: LocalChat;
let bob: LocalChat;
let carol: LocalChat;
let boss: LocalChat;
let viewer: LocalChat;
let broker: { conn: ChannelModel; ch: Channel };
const queues: string[] = [];

const jobIdIn = (text: string) => Number(/#(\d+)/.exec(text)?.[1]);
const q = (label: string) => {
  const name = uniqueQueue(label);
  queues.push(name);
  return name;
};
// Job notifications (progress, final results) arrive on their own schedule; a command's answer is
// the first reply that is not one of them.
const isNotification = (s: string) => /^#### [✅❌⏹] 任务 #/.test(s) || /^任务 #\d+（[^）]*）进度/.test(s);
async function say(c: LocalChat, text: string, until: (s: string) => boolean = (s) => !isNotification(s), timeoutMs = 20_000) {
  const from = c.replies.length;
  await c.send(text);
  return (await c.waitFor((r) => until(r.text), timeoutMs, from)).text;
}
async function queueDepth(name: string): Promise<number | null> {
  const { ch } = broker;
  try {
    return (await ch.checkQueue(name)).messageCount;
  } catch {
    broker.ch = await broker.conn.createChannel();
    broker.ch.on('error', () => {});
    return null;
  }
}

beforeAll(async () => {
  t = await createTestDb('postgres');
  broker = await connectBroker();
  server = await testServer(t.db, {
    AMQP_URL,
    PUSH_ALLOWED_QUEUES: 'test_*',
    ADMIN_STAFF_IDS: 'boss',
    OPERATOR_STAFF_IDS: 'alice,bob,carol',
    DEFAULT_ROLE: 'viewer',
    PROGRESS_INTERVAL_MS: '0',
  });
  chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', nick: 'Alice' });
  bob = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'bob', conversationId: 'cid-bob' });
  // carol shares alice's group (the local chat's default conversation); boss is an admin elsewhere.
  carol = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'carol' });
  boss = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'boss', conversationId: 'cid-boss' });
  viewer = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'vera', conversationId: 'cid-vera' });
});
afterAll(async () => {
  for (const name of queues) await dropQueue(broker.ch, name);
  await chat?.close();
  await bob?.close();
  await carol?.close();
  await boss?.close();
  await viewer?.close();
  await server?.stop();
  await broker?.conn.close();
  await t?.drop();
});

describe('/push through the chat callback', () => {
  it('publishes one refund with the body, properties and queue asked for', async () => {
    const queue = q('refund');
    const ack = await say(chat, `/push refund store=12 sku=A001*2,B002 queue=${queue}`);
    expect(ack).toContain('已受理推送任务');
    const id = jobIdIn(ack);
    const final = await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && /已完成|失败/.test(r.text), 20_000);
    expect(final.text).toContain('已完成');
    const c = await collect(broker.ch, queue);
    await c.waitFor(1);
    await c.drain(); // the job finished: everything it published is in the queue
    expect(c.messages).toHaveLength(1);
    const [m] = c.messages;
    const body = JSON.parse(m?.content.toString('utf8') ?? '{}');
    expect(body).toMatchObject({
      storeId: '12',
      platformCode: 'TAOBAO',
      refundType: 'ONLY_REFUND',
      items: [
        { skuCode: 'A001', refundQuantity: 2, platformSkuCode: 'A001' },
        { skuCode: 'B002', refundQuantity: 1, platformSkuCode: 'B002' },
      ],
    });
    // prefix + date + this install's tag + sequence
    const [tag] = await t.db.query<{ value: number }>(`select value from push_counters where name = 'install_tag'`);
    expect(body.refundNo).toMatch(new RegExp(`^TK\\d{8}${String(tag?.value).padStart(6, '0')}\\d{8}$`));
    expect(m?.fields.routingKey).toBe(queue);
    expect(m?.properties).toMatchObject({
      deliveryMode: 2,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: `${id}-1`,
      appId: 'chatops-bot',
      type: 'refund',
    });
    expect(m?.properties.timestamp).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(m?.properties.headers).toEqual({ 'x-pushed-by': 'Alice (alice)' });
    // The final reply names the queue, the count, first and last order numbers and the time taken.
    expect(final.text).toContain(queue);
    expect(final.text).toContain(`订单号 ${body.refundNo} … ${body.refundNo}`);
    expect(final.text).toMatch(/用时 [\d.]+ (毫秒|秒)/);
    // Declared as the old tool did: durable, dead-lettering to <queue>_dlq, which exists too.
    expect(await queueDepth(`${queue}_dlq`)).toBe(0);
  });

  it('count=1000 renders 1,000 distinct orders and reports progress', async () => {
    const queue = q('bulk');
    const from = chat.replies.length;
    const id = jobIdIn(await say(chat, `/push 退款单 门店=7 sku=A001 count=1000 queue=${queue}`));
    await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('已完成'), 30_000, from);
    const c = await collect(broker.ch, queue);
    await c.waitFor(1000);
    await c.drain();
    expect(c.messages).toHaveLength(1000);
    const numbers = new Set(c.bodies().map((b) => b.refundNo));
    expect(numbers.size).toBe(1000);
    expect(new Set(c.messages.map((m) => m.properties.messageId)).size).toBe(1000);
    const [run] = await t.db.query<{ confirmed: number; republished: number }>(
      'select confirmed, republished from push_runs where job_id = $1',
      [id],
    );
    expect(run).toEqual({ confirmed: 1000, republished: 0 });
    const progress = chat.replies.slice(from).filter((r) => r.text.includes(`任务 #${id}`) && r.text.includes('已确认'));
    expect(progress.length).toBeGreaterThan(0);
    expect(await say(chat, `/job ${id}`)).toContain('已确认 1000/1000');
  });

  it('answers bad requests clearly and publishes nothing', async () => {
    const queue = q('bad');
    const cases: [string, RegExp][] = [
      [`/push refnd store=12 sku=A001 queue=${queue}`, /没有“refnd”这种订单类型，你是不是想用 refund/],
      [`/push refund store=12 sku=A001 colour=red queue=${queue}`, /没有字段“colour”.*store/],
      [`/push refund store=12 sku=A001 amount=lots queue=${queue}`, /退款金额 \(refundAmount\) 应为数字/],
      [`/push refund sku=A001 queue=${queue}`, /缺少必填字段 店铺ID \(storeId\)，请用 store=… 指定/],
      [`/push refund store=12 queue=${queue}`, /缺少商品/],
      [`/push refund store=12 sku=A001 count=0 queue=${queue}`, /count 应为 1 到 100000 之间的整数/],
      [`/push refund store=12 sku=A001 count=1.5 queue=${queue}`, /count 应为 1 到 100000 之间的整数，例如 count=5/],
      [`/push refund store=12 sku=A001 toString=x queue=${queue}`, /没有字段“toString”/],
      [`/push refund store=12 门店=13 sku=A001 queue=${queue}`, /字段“门店”和“store”是同一个字段/],
      [`/push refund store=12 sku=A001 count=10000000 queue=${queue}`, /一次最多推送 100000 条/],
      ['/push refund store=12 sku=A001 queue=prod_orders', /不允许推送到队列 prod_orders/],
      // A repeated scalar key is a mistake, not the list "12,13"; sku may repeat (it is a list).
      [`/push refund store=12 store=13 sku=A001 queue=${queue}`, /参数 store 给了不止一次（12,13），只能给一个值/],
      // A Latin value is quoted in Chinese text ("应为“true”或“false”", not "应为true 或 false").
      [`/push refund store=12 sku=A001 dry=maybe queue=${queue}`, /应为“true”或“false”/],
      [`/push order_download store=12 sku=A001 paytime=yesterday queue=${queue}`, /付款时间 \(platformPayTime\) 应为 yyyy-MM-dd HH:mm:ss/],
    ];
    for (const [text, expected] of cases) expect(await say(chat, text), text).toMatch(expected);
    expect(await queueDepth(queue)).toBeNull(); // never even declared
    const [{ n }] = (await t.db.query<{ n: number }>(
      `select count(*)::int as n from jobs where kind = 'order_push' and payload->'spec'->>'queue' = $1`,
      [queue],
    )) as [{ n: number }];
    expect(n).toBe(0);
  });

  it('fails clearly on a queue whose arguments conflict, publishing nothing', async () => {
    const queue = q('conflict');
    await broker.ch.assertQueue(queue, { durable: true, arguments: { 'x-max-length': 10 } });
    const id = jobIdIn(await say(chat, `/push refund store=12 sku=A001 queue=${queue}`));
    const final = await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('失败'), 20_000);
    expect(final.text).toContain(`队列 ${queue} 已存在，但参数与预设不同`);
    expect(final.text).toContain('AMQP_QUEUE_MODE=check');
    expect(await getJob(t.db, id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await queueDepth(queue)).toBe(0);
    // The bot's connection survived the channel error: the next push works.
    const ok = q('after_conflict');
    const id2 = jobIdIn(await say(chat, `/push refund store=12 sku=A001 queue=${ok}`));
    expect((await waitForStatus(t.db, id2, ['succeeded', 'failed'])).status).toBe('succeeded');
  });

  it('dry run shows the queue and the first message and publishes nothing', async () => {
    const queue = q('dry');
    const reply = await say(chat, `/push refund store=12 sku=A001*3 queue=${queue} dry`);
    expect(reply).toContain(`试运行（不会发送）：退款单 ×1 → 队列 ${queue}`);
    const json = JSON.parse(reply.slice(reply.indexOf('{')));
    expect(json).toMatchObject({ storeId: '12', items: [{ skuCode: 'A001', refundQuantity: 3 }] });
    expect(await queueDepth(queue)).toBeNull();
  });

  it('saves, lists, shows, uses and removes templates; only owners and admins change them', async () => {
    const queue = q('tpl');
    expect(await say(chat, `/template save daily-refund refund store=12 sku=A001*2 count=3 queue=${queue}`)).toContain(
      '已保存模板 @daily-refund',
    );
    expect(await say(chat, '/template save bad refund colour=red')).toContain('没有字段“colour”');
    expect(await say(chat, '/template list')).toContain('@daily-refund');
    expect(await say(chat, '/template show daily-refund')).toContain(`/push refund store=12 sku=A001*2 count=3 queue=${queue}`);
    expect(await say(chat, '/template list')).toContain('alice');
    const id = jobIdIn(await say(chat, '/push @daily-refund store=99'));
    await waitForStatus(t.db, id, ['succeeded']);
    const c = await collect(broker.ch, queue);
    await c.waitFor(3);
    await c.stop();
    expect(c.bodies().map((b) => b.storeId)).toEqual(['99', '99', '99']); // later overrides win
    expect(c.bodies()[0]?.items).toMatchObject([{ skuCode: 'A001', refundQuantity: 2 }]);
    expect(await say(bob, '/template rm daily-refund')).toContain('只有它的创建者或管理员');
    expect(await say(bob, '/template save daily-refund refund store=1')).toContain('只有它的创建者或管理员');
    expect(await say(chat, '/template rm daily-refund')).toContain('已删除模板 @daily-refund');
    expect(await say(chat, '/push @daily-refund')).toContain('没有名为“daily-refund”的模板');
  });

  it('lists history and replays a push with fresh order numbers, by the one visibility rule', async () => {
    const queue = q('replay');
    const first = jobIdIn(await say(chat, `/push refund store=5 sku=B002 count=2 queue=${queue}`));
    await waitForStatus(t.db, first, ['succeeded']);
    const history = await say(chat, '/push history 50');
    expect(history).toMatch(new RegExp(`#${first} 退款单 ×2（已确认 2）· 首单 TK\\d+ · alice`));
    // Another operator in another conversation neither sees nor replays it; a viewer neither.
    expect(await say(bob, '/push history 50')).not.toContain(`#${first} `);
    expect(await say(bob, `/push replay ${first}`)).toContain(`没有找到推送任务 #${first}`);
    expect(await say(viewer, '/push history 50')).not.toContain(`#${first} `);
    expect(await say(viewer, `/push replay ${first}`)).toContain('需要“操作员”权限');
    // A member of the group it was started in sees it (its progress was posted there), but replaying
    // is its owner's or an admin's.
    expect(await say(carol, '/push history 50')).toContain(`#${first} `);
    expect(await say(carol, `/push replay ${first}`)).toContain('只有发起人或管理员可以重放');
    expect(await say(boss, '/push history 50')).toContain(`#${first} `);
    const jobsBefore = await t.db.query<{ n: number }>(`select count(*)::int as n from jobs where payload->>'replayOf' = $1`, [
      String(first),
    ]);
    expect(jobsBefore[0]?.n).toBe(0); // the refusals started nothing
    const replayed = jobIdIn(await say(boss, `/push replay ${first}`));
    expect(replayed).not.toBe(first);
    await waitForStatus(t.db, replayed, ['succeeded']);
    const c = await collect(broker.ch, queue);
    await c.waitFor(4);
    await c.stop();
    const bodies = c.bodies();
    expect(bodies.map((b) => b.storeId)).toEqual(['5', '5', '5', '5']);
    expect(new Set(bodies.map((b) => b.refundNo)).size).toBe(4);
    expect(await say(boss, '/push history mine')).toContain(`#${replayed}`);
    expect(await say(bob, '/push history mine')).not.toContain(`#${replayed}`);
  });

  it('takes pushes over the webhook: 202 with a status URL, dry runs, clear 400s', async () => {
    const queue = q('hook');
    const token = await createApiToken(t.db, 'ci', 'operator', 'test');
    const viewer = await createApiToken(t.db, 'viewer', 'viewer', 'test');
    const post = (body: unknown, auth = token, type = 'refund') =>
      fetch(`${server.url}/hooks/push/${type}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post({ overrides: { store: 12, 'buyer.buyerName': '接口' }, items: [{ sku: 'A001', quantity: 2 }], count: 3, queue });
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { jobId: number; statusUrl: string };
    expect(accepted.statusUrl).toMatch(new RegExp(`/api/jobs/${accepted.jobId}$`));
    await waitForStatus(t.db, accepted.jobId, ['succeeded']);
    const status = await fetch(`${server.url}/api/jobs/${accepted.jobId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(await status.json()).toMatchObject({ job: { status: 'succeeded', result: { count: 3, queue } } });
    const c = await collect(broker.ch, queue);
    await c.waitFor(3);
    await c.stop();
    expect(c.bodies()[0]).toMatchObject({ storeId: '12', buyer: { buyerName: '接口' }, items: [{ skuCode: 'A001', refundQuantity: 2 }] });
    const dry = await post({ overrides: { store: 12 }, items: 'A001', dryRun: true, queue });
    expect(await dry.json()).toMatchObject({ ok: true, dryRun: true, queue, message: { storeId: '12' } });
    const bad = await post({ overrides: { store: 12, colour: 'red' }, items: 'A001', queue });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'colour' } });
    expect((await post({ overrides: { store: 12 }, items: 'A001', queue }, viewer)).status).toBe(403);
    expect((await post({ overrides: { store: 12 }, items: 'A001' }, token, 'nosuch')).status).toBe(400);
  });
});

describe('/push with the broker set up otherwise', () => {
  // Its own database: the main server's runner must not pick these jobs up.
  let other: TestDb;
  beforeAll(async () => {
    other = await createTestDb('postgres');
  });
  afterAll(async () => other?.drop());

  it('without AMQP_URL: the job fails saying what to set, publishes nothing, and can be retried', async () => {
    const s = await testServer(other.db, { PUSH_ALLOWED_QUEUES: 'test_*' });
    const c = await createLocalChat({ url: s.url, secret: TEST_SECRET, staffId: 'alice' });
    const queue = q('nobroker');
    let id: number;
    try {
      const from = c.replies.length;
      await c.send(`/push refund store=12 sku=A001 count=3 queue=${queue}`);
      const final = await c.waitFor((r) => r.text.includes('失败'), 20_000, from);
      expect(final.text).toContain('请设置 AMQP_URL');
      expect(final.text).toMatch(/\/retry \d+/);
      id = jobIdIn(final.text);
      expect(await getJob(other.db, id)).toMatchObject({ status: 'failed', attempts: 1 });
      expect(await queueDepth(queue)).toBeNull();
    } finally {
      await s.stop();
    }
    // Set AMQP_URL, restart, /retry: the push runs now, and its final message does not claim a
    // dropped connection or re-sent messages, because none were.
    // The job still reports to the conversation it was started from (the first chat's webhook).
    const s2 = await testServer(other.db, { AMQP_URL, PUSH_ALLOWED_QUEUES: 'test_*' });
    const c2 = await createLocalChat({ url: s2.url, secret: TEST_SECRET, staffId: 'alice' });
    try {
      const from = c.replies.length;
      expect(await say(c2, `/retry ${id}`)).toContain('第 2 次尝试');
      const done = await c.waitFor((r) => r.text.includes(`任务 #${id}`) && /已完成|失败/.test(r.text), 20_000, from);
      expect(done.text).toContain('已推送 3 条退款单');
      expect(done.text).not.toMatch(/连接中断|重发|重新发送/);
      expect(done.text.match(/用时/g)).toHaveLength(1); // the time taken, once
      expect(await getJob(other.db, id)).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(await queueDepth(queue)).toBe(3);
    } finally {
      await c.close();
      await c2.close();
      await s2.stop();
    }
  });

  it('in check mode: a missing queue is a clear failure', async () => {
    const s = await testServer(other.db, { AMQP_URL, AMQP_QUEUE_MODE: 'check', PUSH_ALLOWED_QUEUES: 'test_*' });
    const c = await createLocalChat({ url: s.url, secret: TEST_SECRET, staffId: 'alice' });
    try {
      const queue = q('check');
      const from = c.replies.length;
      await c.send(`/push refund store=12 sku=A001 queue=${queue}`);
      const final = await c.waitFor((r) => r.text.includes('失败'), 20_000, from);
      expect(final.text).toContain(`队列 ${queue} 不存在`);
      expect(await queueDepth(queue)).toBeNull();
    } finally {
      await c.close();
      await s.stop();
    }
  });
});
