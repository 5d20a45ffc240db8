import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

/** The local RabbitMQ the push tests use. */
export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A queue name no other test uses (allowed by PUSH_ALLOWED_QUEUES=test_*). */
export function uniqueQueue(label: string): string {
  return `test_${label}_${randomBytes(4).toString('hex')}`;
}

/** A direct connection to the broker for setting up, consuming and cleaning up queues. */
export async function connectBroker(): Promise<{ conn: ChannelModel; ch: Channel }> {
  let conn: ChannelModel;
  try {
    conn = await amqp.connect(AMQP_URL);
  } catch (err) {
    throw new Error(
      `RabbitMQ is not reachable at ${AMQP_URL} (${(err as Error).message}); start it with: rabbitmq-server -detached && rabbitmqctl await_startup`,
    );
  }
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  return { conn, ch };
}

/** Collects every message of a queue. */
export interface Collector {
  messages: ConsumeMessage[];
  bodies(): Record<string, any>[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /**
   * Stop once the queue is empty, i.e. the broker has handed every message to this consumer: the
   * cancel is answered after the deliveries before it, so all of them are in `messages` then.
   */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Consume a queue (declared by the test or the bot) and keep what arrives. */
export async function collect(ch: Channel, queue: string): Promise<Collector> {
  const messages: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(
    queue,
    (m) => {
      if (m) messages.push(m);
    },
    { noAck: true },
  );
  return {
    messages,
    bodies: () => messages.map((m) => JSON.parse(m.content.toString('utf8'))),
    async waitFor(n, timeoutMs = 20_000) {
      const started = Date.now();
      while (messages.length < n) {
        if (Date.now() - started > timeoutMs) throw new Error(`only ${messages.length} of ${n} messages arrived in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async drain(timeoutMs = 20_000) {
      const started = Date.now();
      while ((await ch.checkQueue(queue)).messageCount > 0) {
        if (Date.now() - started > timeoutMs) throw new Error(`queue ${queue} still holds messages after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await ch.cancel(consumerTag).catch(() => {});
    },
    async stop() {
      await ch.cancel(consumerTag).catch(() => {});
    },
  };
}

/** Delete a test queue and its dead-letter queue. */
export async function dropQueue(ch: Channel, queue: string): Promise<void> {
  await ch.deleteQueue(queue).catch(() => {});
  await ch.deleteQueue(`${queue}_dlq`).catch(() => {});
}

/** A TCP proxy in front of the broker whose connections can be cut, to simulate network loss. */
export async function startTcpProxy(target = { host: '127.0.0.1', port: 5672 }) {
  const sockets = new Set<net.Socket>();
  let cuts = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    /** Drop every connection through the proxy at once (the proxy keeps accepting new ones). */
    cut() {
      cuts += 1;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
