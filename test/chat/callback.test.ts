import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSign } from '../../src/chat/sign';
import { inboundMessages } from '../../src/db/schema';
import { type RunningServer, startServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testConfig, testLog, testServer } from '../helpers/deps';
import { type FakeDingTalk, startFakeDingTalk, waitUntil } from '../helpers/fake-dingtalk';

let tdb: TestDb;
let server: RunningServer;
let chat: LocalChat;

async function inboundCount(msgId: string) {
  const rows = await tdb.db.orm.select({ n: sql<number>`count(*)::int` }).from(inboundMessages).where(eq(inboundMessages.msgId, msgId));
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  tdb = await createTestDb('postgres');
  server = await testServer(tdb.db);
  chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice' });
});
afterAll(async () => {
  await chat?.close();
  await server?.stop();
  await tdb?.drop();
});

describe('HTTP callback (POST /dingtalk/callback)', () => {
  it('answers a signed /help with the command list on the sessionWebhook', async () => {
    const from = chat.replies.length;
    const r = await chat.send('/help');
    expect(r.status).toBe(200);
    const reply = await chat.waitFor((x) => x.text.includes('可用命令'), 10_000, from);
    expect(reply.body.msgtype).toBe('markdown');
    expect(reply.text).toContain('/ping');
    expect(reply.text).toContain('/whoami');
    const [row] = await tdb.db.orm.select().from(inboundMessages).where(eq(inboundMessages.msgId, r.msgId));
    expect(row).toMatchObject({ source: 'http', command: 'help', outcome: 'ok', senderStaffId: 'alice', conversationId: 'cid-local-chat' });
    expect(row?.text).toBe('/help');
  });

  it('rejects a bad, missing or stale sign with 401 and runs nothing', async () => {
    const ts = String(Date.now());
    const stale = String(Date.now() - 3_600_001);
    const attempts = [
      await chat.send('/ping', { sign: `AAAA${computeSign(ts, TEST_SECRET).slice(4)}`, timestamp: ts }),
      await chat.send('/ping', { sign: computeSign(ts, 'wrong-secret'), timestamp: ts }),
      await chat.send('/ping', { sign: null }),
      await chat.send('/ping', { timestamp: stale, sign: computeSign(stale, TEST_SECRET) }),
    ];
    for (const a of attempts) {
      expect(a.status).toBe(401);
      expect(await inboundCount(a.msgId)).toBe(0);
    }
    // The next good message is answered, and no reply to the rejected ones slipped in before it.
    const from = chat.replies.length;
    await chat.send('/whoami');
    await chat.waitFor((x) => x.text.includes('alice'), 10_000, from);
    expect(chat.replies.slice(from).some((x) => x.text.startsWith('pong'))).toBe(false);
  });

  it('runs a redelivered msgId once', async () => {
    const from = chat.replies.length;
    const first = await chat.send('/ping', { msgId: 'dup-msg-1' });
    const second = await chat.send('/ping', { msgId: 'dup-msg-1' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body)).toEqual({ duplicate: true });
    await chat.waitFor((x) => x.text.startsWith('pong'), 10_000, from);
    // Give a second reply every chance to arrive, then check there was one.
    await chat.send('/whoami');
    await chat.waitFor((x) => x.text.includes('alice'), 10_000, from);
    expect(chat.replies.slice(from).filter((x) => x.text.startsWith('pong'))).toHaveLength(1);
    expect(await inboundCount('dup-msg-1')).toBe(1);
  });

  it('suggests the closest command for a typo', async () => {
    const from = chat.replies.length;
    await chat.send('/pnig');
    const reply = await chat.waitFor(() => true, 10_000, from);
    expect(reply.text).toContain('pnig');
    expect(reply.text).toContain('/ping');
  });

  it('answers argument errors with the field, what was expected and an example', async () => {
    const from = chat.replies.length;
    await chat.send('/stats hours=soon');
    const reply = await chat.waitFor(() => true, 10_000, from);
    // The field (and what it means), what it should be, what was given, and a typed example.
    expect(reply.text).toMatch(/^参数 hours（统计最近多少小时）应为数字，收到的是“soon”。/);
    expect(reply.text).toContain('例如：hours=24');
    // An unexpected word names the word and shows the usage.
    const from2 = chat.replies.length;
    await chat.send('/help ping extra');
    const word = await chat.waitFor(() => true, 10_000, from2);
    expect(word.text).toBe('看不懂“extra”。用法示例：/help');
  });

  it('reads full-width input typed by a Chinese IME and strips the @mention', async () => {
    const from = chat.replies.length;
    await chat.send('@机器人 ／ｈｅｌｐ　ｐｉｎｇ');
    const reply = await chat.waitFor(() => true, 10_000, from);
    expect(reply.text).toContain('检查机器人是否在线');
  });

  it('rejects a body that is not a robot message with 400', async () => {
    const ts = String(Date.now());
    const res = await fetch(`${server.url}/dingtalk/callback`, {
      method: 'POST',
      headers: { timestamp: ts, sign: computeSign(ts, TEST_SECRET), 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('msgId');
  });
});

describe('replies after the sessionWebhook', () => {
  let fake: FakeDingTalk;
  let srv: RunningServer;
  let c: LocalChat;
  beforeAll(async () => {
    fake = await startFakeDingTalk();
    srv = await testServer(tdb.db, { DINGTALK_CLIENT_ID: 'dingapp', DINGTALK_API_BASE: fake.apiBase });
    c = await createLocalChat({ url: srv.url, secret: TEST_SECRET, staffId: 'bob', robotCode: 'dingapp' });
  });
  afterAll(async () => {
    await c?.close();
    await srv?.stop();
    await fake?.close();
  });

  it('falls back to the robot OpenAPI when the sessionWebhook has expired', async () => {
    await c.send('/ping', { webhookTtlMs: -1000 });
    const sent = await waitUntil(() => fake.sends.find((s) => s.param.content?.startsWith('pong')), 10_000, 'OpenAPI send');
    expect(sent.path).toBe('/v1.0/robot/groupMessages/send');
    expect(sent.body).toMatchObject({ robotCode: 'dingapp', openConversationId: 'cid-local-chat', msgKey: 'sampleText' });
    expect(sent.token).toBe('token-for-dingapp');
  });

  it('fetches a new access token after a 401 and sends once with it', async () => {
    await c.send('/ping', { webhookTtlMs: -1000 });
    await waitUntil(() => fake.sends.find((s) => s.param.content?.startsWith('pong')), 10_000, 'first OpenAPI send');
    const issued = fake.tokensIssued;
    fake.revokeToken('token-for-dingapp');
    const before = fake.sends.length;
    await c.send('/whoami', { webhookTtlMs: -1000 });
    const sent = await waitUntil(
      () => fake.sends.slice(before).find((s) => s.param.content?.includes('bob')),
      10_000,
      'OpenAPI send after refresh',
    );
    expect(fake.tokensIssued).toBe(issued + 1);
    expect(sent.token).toBe(`token-for-dingapp-${issued + 1}`);
    expect(fake.sends.slice(before).filter((s) => s.param.content?.includes('bob'))).toHaveLength(1);
  });

  it('sends 1:1 replies through oToMessages/batchSend to the sender', async () => {
    const single = await createLocalChat({
      url: srv.url,
      secret: TEST_SECRET,
      staffId: 'dave',
      robotCode: 'dingapp',
      conversationType: 'single',
    });
    try {
      const before = fake.sends.length;
      await single.send('/whoami', { webhookTtlMs: -1000 });
      const sent = await waitUntil(
        () => fake.sends.slice(before).find((s) => s.param.content?.includes('dave')),
        10_000,
        '1:1 OpenAPI send',
      );
      expect(sent.path).toBe('/v1.0/robot/oToMessages/batchSend');
      expect(sent.body).toMatchObject({ robotCode: 'dingapp', userIds: ['dave'], msgKey: 'sampleText' });
      expect(sent.body.openConversationId).toBeUndefined();
    } finally {
      await single.close();
    }
  });

  it('falls back to the OpenAPI when the sessionWebhook answers an errcode', async () => {
    c.setErrcode(300001);
    try {
      const before = fake.sends.length;
      await c.send('/whoami');
      const sent = await waitUntil(() => fake.sends.slice(before).find((s) => s.param.content?.includes('bob')), 10_000, 'OpenAPI send');
      expect(sent.body.msgKey).toBe('sampleText');
    } finally {
      c.setErrcode(0);
    }
  });
});

describe('a command slower than DingTalk waits', () => {
  it('is answered within 1.5 s and replies on the sessionWebhook when it finishes', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const srv = await startServer(testConfig(), testLog, { db: tdb.db, faults: { afterInboundRecorded: () => gate } });
    const c = await createLocalChat({ url: srv.url, secret: TEST_SECRET, staffId: 'carol' });
    try {
      const started = performance.now();
      const r = await c.send('/ping');
      const tookMs = performance.now() - started;
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ pending: true });
      expect(tookMs).toBeLessThan(5000); // 1.5 s plus a loaded machine's slack; without the deadline it never answers
      expect(c.replies).toHaveLength(0);
      release();
      await c.waitFor((x) => x.text.startsWith('pong'));
    } finally {
      release();
      await c.close();
      await srv.stop();
    }
  });
});
