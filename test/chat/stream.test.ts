import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { testServer } from '../helpers/deps';
import { type FakeDingTalk, robotFrame, startFakeDingTalk, waitUntil } from '../helpers/fake-dingtalk';

// The real dingtalk-stream SDK (inside our supervisor) against a local gateway speaking the protocol.
let tdb: TestDb;
let fake: FakeDingTalk;
let server: RunningServer;
let chat: LocalChat; // only its sessionWebhook receiver is used here

const health = async () => {
  const res = await fetch(`${server.url}/health`);
  return {
    status: res.status,
    body: (await res.json()) as { status: string; reasons?: string[]; dingtalkStream: { connected: boolean; reconnects: number } },
  };
};
const ackFor = (id: string) => fake.upstream.find((f) => f.headers?.messageId === id);

beforeAll(async () => {
  tdb = await createTestDb('postgres');
  fake = await startFakeDingTalk();
  chat = await createLocalChat({ url: 'http://127.0.0.1:9', secret: 'unused' });
  server = await testServer(tdb.db, {
    DINGTALK_CLIENT_ID: 'ck',
    DINGTALK_CLIENT_SECRET: 'cs',
    DINGTALK_STREAM: 'on',
    DINGTALK_API_BASE: fake.apiBase,
    STREAM_PING_INTERVAL_MS: '1000',
  });
});
afterAll(async () => {
  await server?.stop();
  await chat?.close();
  await fake?.close();
  await tdb?.drop();
});

describe('Stream mode', () => {
  it('connects through the gateway with the robot subscription and reports it in /health', async () => {
    await waitUntil(() => fake.connections === 1, 10_000, 'websocket connection');
    await waitUntil(async () => (await health()).body.status === 'ok', 10_000, 'healthy');
    expect(fake.openRequests[0]).toMatchObject({
      clientId: 'ck',
      clientSecret: 'cs',
      subscriptions: [
        { type: 'EVENT', topic: '*' },
        { type: 'CALLBACK', topic: '/v1.0/im/bot/messages/get' },
      ],
    });
    expect((await health()).body.dingtalkStream.connected).toBe(true);
  });

  it('acks a robot callback at once and replies on its sessionWebhook', async () => {
    const from = chat.replies.length;
    fake.push(robotFrame('m-1', ' /ping', { sessionWebhook: chat.webhookUrl }));
    await waitUntil(() => ackFor('m-1'), 5000, 'ack');
    expect(ackFor('m-1')).toEqual({
      code: 200,
      headers: { contentType: 'application/json', messageId: 'm-1' },
      message: 'OK',
      data: JSON.stringify({ response: null }),
    });
    // Recorded before the ack: the row exists by the time DingTalk sees the ack.
    const rows = await tdb.db.query<{ n: number }>(`select count(*)::int as n from inbound_messages where msg_id = 'msg-m-1'`);
    expect(rows[0]?.n).toBe(1);
    const reply = await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
    expect(reply.body.msgtype).toBe('text');
  });

  it('acks only after the message is recorded', async () => {
    // Hold the inbound table locked: the bot's insert waits, and no ack may go out meanwhile.
    const sql = postgres(tdb.url as string, { max: 2, onnotice: () => {} }); // one holds the lock, one looks
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const tx = sql.begin(async (t) => {
      await t`lock table inbound_messages in access exclusive mode`;
      locked();
      await held;
    });
    try {
      await isLocked;
      const from = chat.replies.length;
      fake.push(robotFrame('m-locked', ' /ping', { sessionWebhook: chat.webhookUrl }));
      await waitUntil(
        async () =>
          (await sql`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query ilike '%insert into inbound_messages%'`)
            .length > 0,
        10_000,
        'the insert to wait for the lock',
      );
      expect(ackFor('m-locked')).toBeUndefined();
      release();
      await tx;
      await waitUntil(() => ackFor('m-locked'), 10_000, 'the ack once recorded');
      await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
    } finally {
      release();
      await tx.catch(() => {});
      await sql.end();
    }
  });

  it('pings the gateway every STREAM_PING_INTERVAL_MS', async () => {
    const before = fake.pings;
    const started = performance.now();
    await waitUntil(() => fake.pings >= before + 2, 20_000, 'two pings');
    // Two pings at a 1 s interval (slack for a loaded machine); the default 30 s would send none in this time.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('acks a redelivered callback again but runs it once', async () => {
    const from = chat.replies.length;
    const frame = robotFrame('m-dup', ' /whoami', { sessionWebhook: chat.webhookUrl, msgId: 'same-msg' });
    fake.push(frame);
    await chat.waitFor((r) => r.text.includes('alice'), 10_000, from);
    fake.push({ ...frame, headers: { ...frame.headers, messageId: 'm-dup-2' } });
    await waitUntil(() => ackFor('m-dup-2'), 5000, 'second ack');
    fake.push(robotFrame('m-after', ' /ping', { sessionWebhook: chat.webhookUrl }));
    await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
    expect(chat.replies.slice(from).filter((r) => r.text.includes('alice'))).toHaveLength(1);
  });

  it('echoes gateway pings and survives a frame that is not JSON', async () => {
    fake.push({ type: 'SYSTEM', headers: { topic: 'ping', messageId: 'p-1', contentType: 'application/json' }, data: '{"opaque":"xyz"}' });
    await waitUntil(() => ackFor('p-1'), 5000, 'ping echo');
    expect(ackFor('p-1')?.data).toBe('{"opaque":"xyz"}');
    fake.pushRaw('this is not json');
    const from = chat.replies.length;
    fake.push(robotFrame('m-2', ' /ping', { sessionWebhook: chat.webhookUrl }));
    await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
  });

  it('reconnects within seconds after the gateway drops the connection', async () => {
    const opens = fake.openRequests.length;
    const dropped = Date.now();
    fake.dropAll();
    await waitUntil(() => fake.connections === 1 && fake.openRequests.length > opens, 10_000, 'reconnect');
    const tookMs = Date.now() - dropped;
    expect(tookMs).toBeLessThan(5000);
    await waitUntil(async () => (await health()).body.status === 'ok', 5000, 'healthy again');
    expect((await health()).body.dingtalkStream.reconnects).toBeGreaterThanOrEqual(1);
    const from = chat.replies.length;
    fake.push(robotFrame('m-3', ' /ping', { sessionWebhook: chat.webhookUrl }));
    await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
  });

  it('backs off instead of storming a failing gateway, and reports degraded meanwhile', async () => {
    fake.setGatewayStatus(503);
    const opens = fake.openRequests.length;
    fake.dropAll();
    // Still 200 (the database is fine, so the instance is ready), but degraded with the reason.
    await waitUntil(async () => (await health()).body.status === 'degraded', 5000, 'degraded');
    expect(await health()).toMatchObject({ status: 200, body: { reasons: ['钉钉 Stream 未连接'], dingtalkStream: { connected: false } } });
    // 1 s, 2 s, 4 s… (each jittered down by at most half): the gaps between attempts grow, instead
    // of the SDK's 2^n storm. Wait for each attempt and time the gaps.
    const attemptAt = async (n: number) => {
      await waitUntil(() => fake.openRequests.length - opens >= n, 20_000, `reconnect attempt ${n}`);
      return performance.now();
    };
    const first = await attemptAt(1);
    const second = await attemptAt(2);
    expect(second - first).toBeGreaterThanOrEqual(900);
    fake.setGatewayStatus(200);
    await waitUntil(() => fake.connections === 1, 20_000, 'reconnect after the gateway recovers');
    await waitUntil(async () => (await health()).body.status === 'ok', 5000, 'healthy again');
  }, 60_000);
});
