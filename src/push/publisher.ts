import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { backoffDelay } from '../lib/backoff';

/** The broker cannot be reached (or the connection dropped): worth waiting and trying again. */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}
/** The queue exists with other arguments than the preset declares (406 PRECONDITION_FAILED). */
export class QueueMismatchError extends Error {
  override name = 'QueueMismatchError';
}
/** The queue does not exist (404 in check mode). */
export class QueueMissingError extends Error {
  override name = 'QueueMissingError';
}
/** The broker returned messages as unroutable (published with `mandatory`). */
export class UnroutableError extends Error {
  override name = 'UnroutableError';
}
/** The broker nacked messages (an internal broker error). */
export class NackError extends Error {
  override name = 'NackError';
}

/** One message to publish. */
export interface OutgoingMessage {
  content: Buffer;
  messageId: string;
  type: string;
  headers: Record<string, string | number>;
}

/** A confirm channel bound to one queue. */
export interface PublishSession {
  /**
   * Publish the messages (persistent JSON, mandatory) and resolve once the broker has confirmed
   * every one. Rejects with UnroutableError, NackError, or BrokerUnavailableError if the channel
   * or connection is lost before all confirms arrived.
   */
  publishConfirmed(messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** RabbitMQ publishing for push jobs: one connection per process, a confirm channel per push. */
export interface Publisher {
  /** Declare the queue and its dead-letter queue as the old tool did, or only check that it exists. */
  prepareQueue(queue: string, mode: 'declare' | 'check', signal?: AbortSignal): Promise<void>;
  openSession(queue: string, signal?: AbortSignal): Promise<PublishSession>;
  close(): Promise<void>;
}

export interface PublisherOptions {
  url: string;
  appId: string;
  log: Logger;
  /** How long one call waits for the broker to come back before giving up. */
  connectTimeoutMs?: number;
  /** The clock (Deps.now): message timestamps and the reconnect budget. */
  now?: () => number;
}

/** The arguments every preset queue is declared with (as the old tool did): dead-lettering to `<queue>_dlq`. */
export function queueArguments(queue: string): Record<string, string> {
  return { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${queue}_dlq` };
}

function brokerCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Where the URL points, without credentials (for messages). */
export function describeBroker(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5672}${decodeURIComponent(u.pathname || '/') || '/'}`;
  } catch {
    return 'the broker';
  }
}

/** Create the process's publisher. Nothing connects until the first push. */
export function createPublisher(o: PublisherOptions): Publisher {
  const log = o.log.child({ component: 'amqp' });
  const waitMs = o.connectTimeoutMs ?? 60_000;
  const now = o.now ?? Date.now;
  let conn: ChannelModel | undefined;
  let connecting: Promise<ChannelModel> | undefined;
  let closed = false;

  async function connectOnce(): Promise<ChannelModel> {
    const c = await amqp.connect(o.url, { timeout: 10_000, clientProperties: { connection_name: o.appId } });
    c.on('error', (err) => log.warn({ err: errorMessage(err) }, 'broker connection error'));
    c.on('close', () => {
      if (conn === c) conn = undefined;
      if (!closed) log.warn('broker connection closed');
    });
    c.on('blocked', (reason) => log.warn({ reason }, 'broker blocked publishing (resource alarm)'));
    return c;
  }

  /** The shared connection, (re)connecting with capped exponential backoff. */
  async function connection(signal?: AbortSignal): Promise<ChannelModel> {
    if (conn) return conn;
    connecting ??= (async () => {
      const started = now();
      for (let attempt = 1; ; attempt++) {
        const delay = backoffDelay({ backoff: 'exponential', baseMs: 200, maxMs: 5000, jitter: 0 }, attempt, 0);
        if (closed) throw new BrokerUnavailableError('publisher closed');
        try {
          const c = await connectOnce();
          conn = c;
          if (attempt > 1) log.info({ attempt }, 'broker connection restored');
          return c;
        } catch (err) {
          if (now() - started + delay > waitMs) {
            throw new BrokerUnavailableError(`cannot reach RabbitMQ at ${describeBroker(o.url)}: ${errorMessage(err)}`);
          }
          log.warn({ attempt, delayMs: delay, err: errorMessage(err) }, 'broker unreachable; retrying');
          await sleep(delay);
        }
      }
    })().finally(() => {
      connecting = undefined;
    });
    if (!signal) return connecting;
    signal.throwIfAborted();
    const aborted = once(signal, 'abort').then(() => {
      throw signal.reason;
    });
    return Promise.race([connecting, aborted]);
  }

  return {
    async prepareQueue(queue, mode, signal) {
      const c = await connection(signal);
      const ch = await c.createChannel();
      ch.on('error', () => {}); // a 404/406 closes only this channel; the promise below reports it
      try {
        if (mode === 'declare') {
          await ch.assertQueue(`${queue}_dlq`, { durable: true });
          await ch.assertQueue(queue, { durable: true, arguments: queueArguments(queue) });
        } else {
          await ch.checkQueue(queue);
        }
      } catch (err) {
        const code = brokerCode(err);
        const text = errorMessage(err).replace(/^Channel closed by server: /, '');
        if (code === 406) throw new QueueMismatchError(text);
        if (code === 404) throw new QueueMissingError(text);
        if (code === undefined) throw new BrokerUnavailableError(text);
        throw err;
      } finally {
        await ch.close().catch(() => {});
      }
    },

    async openSession(queue, signal) {
      const c = await connection(signal);
      let ch: ConfirmChannel;
      try {
        ch = await c.createConfirmChannel();
      } catch (err) {
        throw new BrokerUnavailableError(`cannot open a channel: ${errorMessage(err)}`);
      }
      let lost: Error | undefined;
      const returned = new Set<string>();
      ch.on('error', (err) => {
        lost = new BrokerUnavailableError(`channel error: ${errorMessage(err)}`);
      });
      ch.on('close', () => {
        lost ??= new BrokerUnavailableError('channel closed');
      });
      ch.on('return', (msg) => returned.add(String(msg.properties.messageId)));
      const closedPromise = once(ch, 'close').then(() => {
        throw lost ?? new BrokerUnavailableError('channel closed');
      });
      closedPromise.catch(() => {});
      // Windows may overlap (one confirming while the next is written), but their messages are
      // written one window after another, so the queue keeps the push's order.
      let writing: Promise<void> = Promise.resolve();

      return {
        async publishConfirmed(messages) {
          if (lost) throw lost;
          const confirms: Promise<void>[] = [];
          const previous = writing;
          let written: () => void = () => {};
          writing = new Promise((r) => {
            written = r;
          });
          try {
            await previous;
            await writeAll(messages, confirms);
          } finally {
            written();
          }
          await Promise.all(confirms);
          if (lost) throw lost;
          const bad = messages.filter((m) => returned.has(m.messageId));
          if (bad.length > 0) {
            throw new UnroutableError(`${bad.length} message(s) could not be routed to queue ${queue} (it does not exist or was deleted)`);
          }
        },
        async close() {
          if (!lost) await ch.close().catch(() => {});
        },
      };

      async function writeAll(messages: OutgoingMessage[], confirms: Promise<void>[]): Promise<void> {
        if (lost) throw lost;
        const timestamp = Math.floor(now() / 1000);
        for (const m of messages) {
          let writable = true;
          const confirmed = new Promise<void>((resolve, reject) => {
            writable = ch.publish(
              '',
              queue,
              m.content,
              {
                persistent: true,
                mandatory: true,
                contentType: 'application/json',
                contentEncoding: 'utf-8',
                messageId: m.messageId,
                timestamp,
                appId: o.appId,
                type: m.type,
                headers: m.headers,
              },
              (err) => {
                if (!err) resolve();
                else if (lost) reject(lost);
                else if (/nack/i.test(errorMessage(err))) reject(new NackError('the broker did not accept a message (nack)'));
                else reject(new BrokerUnavailableError(errorMessage(err)));
              },
            );
          });
          // Awaited below; marked handled now in case the loop stops early on a lost channel.
          confirmed.catch(() => {});
          confirms.push(confirmed);
          // The channel's write buffer is full: wait for it to drain before writing more.
          if (!writable) await Promise.race([once(ch, 'drain'), closedPromise]);
        }
      }
    },

    async close() {
      closed = true;
      const c = conn;
      conn = undefined;
      if (c) await c.close().catch(() => {});
    },
  };
}
