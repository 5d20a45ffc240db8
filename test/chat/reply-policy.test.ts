import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackSecretPath } from '../../src/chat/callback-secret';
import { createReplier } from '../../src/chat/replier';
import { fitReply, isAllowedReplyUrl, MAX_REPLY_BYTES } from '../../src/chat/reply-policy';
import { createTranslator } from '../../src/i18n';
import { createLocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testLog, testServer } from '../helpers/deps';
import { startFakeDingTalk, waitUntil } from '../helpers/fake-dingtalk';

const strict = { extraHosts: [] as string[], allowLoopback: false };

describe('isAllowedReplyUrl', () => {
  it.each([
    ['https://oapi.dingtalk.com/robot/sendBySession?session=abc', strict, true],
    ['https://api.dingtalk.io/x', strict, true],
    ['http://oapi.dingtalk.com/robot/sendBySession', strict, false], // https only
    ['https://oapi.dingtalk.com:8443/robot', strict, false],
    ['https://oapi.dingtalk.com.evil.example/robot', strict, false],
    ['https://evildingtalk.com/robot', strict, false],
    ['https://user:pw@oapi.dingtalk.com/robot', strict, false],
    ['http://127.0.0.1:9999/robot', strict, false],
    ['http://localhost/robot', strict, false],
    ['http://169.254.169.254/latest/meta-data', strict, false],
    ['http://10.0.0.5/internal', strict, false],
    ['file:///etc/passwd', strict, false],
    ['not a url', strict, false],
    ['http://127.0.0.1:9999/robot', { extraHosts: [], allowLoopback: true }, true],
    ['http://[::1]:9999/robot', { extraHosts: [], allowLoopback: true }, true],
    ['http://10.0.0.5/internal', { extraHosts: [], allowLoopback: true }, false],
    ['https://gw.example.com/robot', { extraHosts: ['gw.example.com'], allowLoopback: false }, true],
    ['https://gw.example.com:8443/robot', { extraHosts: ['gw.example.com:8443'], allowLoopback: false }, true],
    ['https://gw.example.com:9443/robot', { extraHosts: ['gw.example.com:8443'], allowLoopback: false }, false],
  ])('%s → %s', (url, policy, expected) => {
    expect(isAllowedReplyUrl(url, policy)).toBe(expected);
  });
});

describe('fitReply', () => {
  const note = (cut: number) => `…(cut ${cut})`;
  it('leaves a message DingTalk accepts alone and cuts a longer one at a character boundary, with a note', () => {
    const short = { type: 'text' as const, text: '短消息' };
    expect(fitReply(short, note)).toBe(short);
    const long = { type: 'markdown' as const, title: 't', text: '汉'.repeat(10_000) }; // 30 000 bytes
    const cut = fitReply(long, note);
    expect(Buffer.byteLength(cut.text, 'utf8')).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    const kept = cut.text.indexOf('…');
    expect(cut.text.slice(kept)).toBe(`…(cut ${10_000 - kept})`);
    expect(cut.text.slice(0, kept)).toBe('汉'.repeat(kept));
  });
});

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('postgres');
});
afterAll(async () => tdb?.drop());

describe('where replies go', () => {
  it('refuses a loopback sessionWebhook once a real app secret is set, and replies through the OpenAPI instead', async () => {
    const fake = await startFakeDingTalk();
    const server = await testServer(tdb.db, { DINGTALK_REPLY_HOSTS: '', DINGTALK_CLIENT_ID: 'dingapp', DINGTALK_API_BASE: fake.apiBase });
    const chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', robotCode: 'dingapp' });
    try {
      await chat.send('/ping');
      const sent = await waitUntil(() => fake.sends.find((s) => s.param.content?.startsWith('pong')), 10_000, 'OpenAPI send');
      expect(sent.body.openConversationId).toBe('cid-local-chat');
      await server.deps.background.drain(5000);
      expect(chat.replies).toHaveLength(0);
    } finally {
      await chat.close();
      await server.stop();
      await fake.close();
    }
  });

  it('allows loopback while the generated local secret signs callbacks (npm run chat with no environment)', async () => {
    const server = await testServer(tdb.db, { DINGTALK_REPLY_HOSTS: '', DINGTALK_CLIENT_SECRET: '' });
    const secret = readFileSync(callbackSecretPath(server.deps.config.DATA_DIR), 'utf8').trim();
    const chat = await createLocalChat({ url: server.url, secret, staffId: 'alice' });
    try {
      await chat.send('/ping');
      await chat.waitFor((r) => r.text.startsWith('pong'));
    } finally {
      await chat.close();
      await server.stop();
    }
  });

  it('cuts a reply longer than DingTalk accepts, saying so in the chat language', async () => {
    const chat = await createLocalChat({ url: 'http://127.0.0.1:9', secret: 'unused' });
    try {
      const t = createTranslator('zh-CN');
      const replier = createReplier({
        apiBase: 'http://127.0.0.1:9',
        fetch,
        now: Date.now,
        log: testLog,
        replyHosts: ['127.0.0.1'],
        truncatedNote: (cut) => t('reply.truncated', { cut }),
      });
      const target = {
        conversationId: 'c',
        conversationType: 'group' as const,
        sessionWebhook: chat.webhookUrl,
        sessionWebhookExpiresAt: Date.now() + 600_000,
      };
      await replier.send(target, { type: 'text', text: 'x'.repeat(50_000) });
      const got = await chat.waitFor(() => true);
      expect(Buffer.byteLength(got.text, 'utf8')).toBeLessThanOrEqual(MAX_REPLY_BYTES);
      expect(got.text).toMatch(/…（回复过长，已截断 \d+ 个字符）$/);
    } finally {
      await chat.close();
    }
  });
});

/**
 * POST with node:http: the server answers 413 before it has read the body and closes the socket,
 * which fetch reports as a network error; a client that reads the answer first (as DingTalk's and
 * curl do) sees the 413.
 */
function postRaw(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer x',
        timestamp: '1',
        sign: 'x',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
    req.end(body);
  });
}

describe('input size', () => {
  it('caps what an unknown command echoes back', async () => {
    const server = await testServer(tdb.db);
    const chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice' });
    try {
      await chat.send(`/${'a'.repeat(100_000)}`);
      const reply = await chat.waitFor(() => true);
      expect(reply.text.length).toBeLessThan(200);
      expect(reply.text).toContain(`${'a'.repeat(40)}…`);
    } finally {
      await chat.close();
      await server.stop();
    }
  });

  it('answers 413 with the error shape for bodies over the limit on the callback, /hooks and /api', async () => {
    const server = await testServer(tdb.db);
    try {
      for (const [path, size] of [
        ['/dingtalk/callback', 300 * 1024],
        ['/hooks/commands/ping', 1100 * 1024],
        ['/api/jobs/1/cancel', 1100 * 1024],
      ] as const) {
        const res = await postRaw(`${server.url}${path}`, JSON.stringify({ pad: 'x'.repeat(size) }));
        expect(res.status, path).toBe(413);
        expect(JSON.parse(res.body), path).toMatchObject({
          ok: false,
          error: { code: 'too_large', message: expect.stringContaining('字节') },
        });
      }
    } finally {
      await server.stop();
    }
  });
});
