import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { collect, connectBroker, dropQueue, startTcpProxy, uniqueQueue } from '../helpers/amqp';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { waitForStatus } from '../helpers/jobs';

// The publisher reaches RabbitMQ through a TCP proxy that the test cuts mid-push.
let t: TestDb;
let server: RunningServer;
let chat: LocalChat;
let broker: { conn: ChannelModel; ch: Channel };
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
const queue = uniqueQueue('fault');

beforeAll(async () => {
  t = await createTestDb('postgres');
  broker = await connectBroker();
  proxy = await startTcpProxy();
  server = await testServer(t.db, { AMQP_URL: proxy.url, PUSH_ALLOWED_QUEUES: 'test_*' });
  chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice' });
});
afterAll(async () => {
  await dropQueue(broker.ch, queue);
  await chat?.close();
  await server?.stop();
  await proxy?.close();
  await broker?.conn.close();
  await t?.drop();
});

describe('a push that loses its broker connection', () => {
  it('reconnects, finishes, and the consumer gets all 20,000 distinct orders', async ({ annotate }) => {
    await broker.ch.assertQueue(`${queue}_dlq`, { durable: true });
    await broker.ch.assertQueue(queue, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${queue}_dlq` },
    });
    const consumer = await collect(broker.ch, queue);
    const from = chat.replies.length;
    await chat.send(`/push refund store=12 sku=A001*2,B002 count=20000 queue=${queue}`);
    const ack = await chat.waitFor((r) => r.text.includes('已受理推送任务'), 10_000, from);
    const id = Number(/#(\d+)/.exec(ack.text)?.[1]);

    // Cut the connection twice while the push is under way.
    for (const mark of [4000, 12000]) {
      await waitUntil(
        async () => {
          const [r] = await t.db.query<{ confirmed: number }>('select confirmed from push_runs where job_id = $1', [id]);
          return Number(r?.confirmed ?? 0) >= mark;
        },
        30_000,
        `${mark} confirmed`,
      );
      proxy.cut();
    }
    const job = await waitForStatus(t.db, id, ['succeeded', 'failed'], 60_000);
    expect(job.status).toBe('succeeded');
    expect(job.attempts).toBe(1); // survived within one attempt
    await consumer.waitFor(20_000, 30_000);
    await consumer.drain(); // duplicates included: every confirmed message has been delivered
    const numbers = consumer.bodies().map((b) => b.refundNo as string);
    const distinct = new Set(numbers);
    const duplicates = numbers.length - distinct.size;
    const result = (await getJob(t.db, id))?.result as { republished: number; resentOnReconnect: number; resentOnRetry: number };
    annotate(`received ${numbers.length}, distinct ${distinct.size}, duplicates ${duplicates}, republished ${result.republished}`);
    expect(proxy.cuts).toBe(2);
    expect(distinct.size).toBe(20_000); // nothing lost
    expect(duplicates).toBeLessThanOrEqual(result.republished); // only from re-sent, unconfirmed windows
    expect(result.republished).toBeGreaterThan(0);
    expect(result).toMatchObject({ resentOnReconnect: result.republished, resentOnRetry: 0 });
    const final = await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('已完成'), 10_000, from);
    expect(final.text).toContain('重发了');
  });
});
