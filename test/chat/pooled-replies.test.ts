import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplier } from '../../src/chat/replier';
import { createPooledPost } from '../../src/lib/pooled-post';
import { testLog } from '../helpers/deps';

// Replies go over pooled keep-alive connections: one connection carries many replies.
let connections = 0;
let bodies: string[] = [];
let answer = '{"errcode":0}';
const srv = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    bodies.push(body);
    if (req.url?.includes('slow')) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
  });
});
srv.on('connection', () => connections++);
let base = '';
const post = createPooledPost();
beforeAll(async () => {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
});
afterAll(async () => {
  post.close();
  srv.closeAllConnections();
  await new Promise((r) => srv.close(r));
});

const target = (path = '/robot/send?session=x') => ({
  conversationId: 'cid',
  conversationType: 'group' as const,
  robotCode: 'local',
  sessionWebhook: `${base}${path}`,
  sessionWebhookExpiresAt: Date.now() + 3_600_000,
});

describe('replies over pooled connections', () => {
  it('sends 30 replies (10 at a time) over at most 10 connections, each body intact', async () => {
    const replier = createReplier({ apiBase: base, fetch, post, now: Date.now, log: testLog, allowLoopback: true });
    connections = 0;
    bodies = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => replier.send(target(), { type: 'text', text: `r${round}-${i}` })));
    }
    expect(bodies).toHaveLength(30);
    expect(bodies.map((b) => JSON.parse(b).text.content).sort()).toContain('r2-9');
    expect(connections).toBeLessThanOrEqual(10);
  });

  it('still treats a non-zero errcode as a failure, and gives up on a webhook that never answers', async () => {
    answer = '{"errcode":300001,"errmsg":"bad"}';
    const replier = createReplier({ apiBase: base, fetch, post, now: Date.now, log: testLog, allowLoopback: true, timeoutMs: 300 });
    await expect(replier.send(target(), { type: 'text', text: 'x' })).rejects.toThrow(/300001/);
    answer = '{"errcode":0}';
    await expect(replier.send(target('/slow'), { type: 'text', text: 'x' })).rejects.toThrow(/timed out/);
  });
});
