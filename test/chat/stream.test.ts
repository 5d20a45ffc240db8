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
  return { status: res.status, body: (await res.json()) as { dingtalkStream: { connected: boolean; reconnects: number } } };
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
    await waitUntil(async () => (await health()).status === 200, 10_000, 'healthy');
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
    const reply = await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
    expect(reply.body.msgtype).toBe('text');
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
    await waitUntil(async () => (await health()).status === 200, 5000, 'healthy again');
    expect((await health()).body.dingtalkStream.reconnects).toBeGreaterThanOrEqual(1);
    const from = chat.replies.length;
    fake.push(robotFrame('m-3', ' /ping', { sessionWebhook: chat.webhookUrl }));
    await chat.waitFor((r) => r.text.startsWith('pong'), 10_000, from);
  });

  it('backs off instead of storming a failing gateway, and reports 503 meanwhile', async () => {
    fake.setGatewayStatus(503);
    const opens = fake.openRequests.length;
    fake.dropAll();
    await waitUntil(async () => (await health()).status === 503, 5000, 'unhealthy');
    await new Promise((r) => setTimeout(r, 4000));
    const attempts = fake.openRequests.length - opens;
    // 1 s, 2 s, 4 s… with jitter: a handful of attempts, not the SDK's 2^n storm.
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(4);
    fake.setGatewayStatus(200);
    await waitUntil(() => fake.connections === 1, 20_000, 'reconnect after the gateway recovers');
    await waitUntil(async () => (await health()).status === 200, 5000, 'healthy again');
  });
});
