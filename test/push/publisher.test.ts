import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, QueueMismatchError, QueueMissingError, UnroutableError } from '../../src/push/publisher';
import { AMQP_URL, collect, connectBroker, dropQueue, uniqueQueue } from '../helpers/amqp';
import { testLog } from '../helpers/deps';

// The publisher against the real broker, below the job: what it reports when routing fails.
let broker: { conn: ChannelModel; ch: Channel };
const publisher = createPublisher({ url: AMQP_URL, appId: 'test', log: testLog, connectTimeoutMs: 5000 });
const queues: string[] = [];
const msg = (i: number) => ({
  content: Buffer.from(JSON.stringify({ i })),
  messageId: `m-${i}`,
  type: 't',
  headers: { 'x-pushed-by': 'test' },
});

beforeAll(async () => {
  broker = await connectBroker();
});
afterAll(async () => {
  for (const q of queues) await dropQueue(broker.ch, q);
  await publisher.close();
  await broker.conn.close();
});

describe('publisher', () => {
  it('reports messages the broker could not route (mandatory), instead of dropping them silently', async () => {
    const missing = uniqueQueue('nowhere');
    const session = await publisher.openSession(missing);
    await expect(session.publishConfirmed([msg(1), msg(2)])).rejects.toBeInstanceOf(UnroutableError);
    await session.close();
  });

  it('declares queues with their dead-letter queue, and tells a mismatch or a missing queue apart', async () => {
    const q = uniqueQueue('declare');
    queues.push(q);
    await publisher.prepareQueue(q, 'declare');
    await publisher.prepareQueue(q, 'declare'); // idempotent
    await publisher.prepareQueue(q, 'check');
    expect((await broker.ch.checkQueue(`${q}_dlq`)).queue).toBe(`${q}_dlq`);
    const other = uniqueQueue('mismatch');
    queues.push(other);
    await broker.ch.assertQueue(other, { durable: false });
    await expect(publisher.prepareQueue(other, 'declare')).rejects.toBeInstanceOf(QueueMismatchError);
    await expect(publisher.prepareQueue(uniqueQueue('absent'), 'check')).rejects.toBeInstanceOf(QueueMissingError);
    // Channel errors do not break the shared connection.
    const session = await publisher.openSession(q);
    await session.publishConfirmed([msg(1), msg(2), msg(3)]);
    await session.close();
    const c = await collect(broker.ch, q);
    await c.waitFor(3);
    await c.stop();
    expect(c.messages.map((m) => m.properties.messageId)).toEqual(['m-1', 'm-2', 'm-3']);
  });
});
