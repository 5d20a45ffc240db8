import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSign } from '../../src/chat/sign';
import { QUEUED_CHAT_KIND } from '../../src/edge/kinds';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { waitForStatus } from '../helpers/jobs';
import { buildWorker, type LocalWorker, startWorker } from './worker-harness';

// The Worker (built by `wrangler deploy --dry-run`, run in workerd) and a Node instance share one
// database; the Node instance runs the job loop and answers on the local sessionWebhook.
let script: string;
let tdb: TestDb;
let server: RunningServer;
let worker: LocalWorker;
let viaEdge: LocalChat;
let direct: LocalChat;

const inbound = (msgId: string) =>
  tdb.db.query<{ source: string; command: string | null; outcome: string; sender_staff_id: string | null; conversation_id: string }>(
    'select source, command, outcome, sender_staff_id, conversation_id from inbound_messages where msg_id = $1',
    [msgId],
  );
const queuedJobs = (msgId: string) =>
  tdb.db.query<{ id: number }>(`select id from jobs where kind = $1 and payload->'message'->>'msgId' = $2`, [QUEUED_CHAT_KIND, msgId]);

beforeAll(async () => {
  const [built, db] = await Promise.all([buildWorker(), createTestDb('postgres')]);
  script = built.script;
  tdb = db;
  server = await testServer(tdb.db);
  worker = await startWorker(script, tdb.url as string, { DINGTALK_CLIENT_SECRET: TEST_SECRET, PUBLIC_URL: 'https://edge.example.com' });
  viaEdge = await createLocalChat({ url: worker.url, secret: TEST_SECRET, staffId: 'alice', nick: 'Alice' });
  direct = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', nick: 'Alice' });
}, 120_000);
afterAll(async () => {
  await viaEdge?.close();
  await direct?.close();
  await worker?.close();
  await server?.stop();
  await tdb?.drop();
});

describe('POST /dingtalk/callback on the Worker', () => {
  it('answers 200 with the message recorded and queued, and a Node instance replies on the sessionWebhook', async () => {
    const from = viaEdge.replies.length;
    const r = await viaEdge.send('/ping', { msgId: 'edge-ping-1' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ queued: true });
    // Recorded (under the same dedupe key as the Node path) and queued before the answer.
    const [job] = await queuedJobs('edge-ping-1');
    expect(job).toBeDefined();
    const reply = await viaEdge.waitFor((x) => x.text.startsWith('pong'), 15_000, from);
    expect(reply.text).toMatch(/^pong/);
    const done = await waitForStatus(tdb.db, Number(job?.id), ['succeeded']);
    expect(done.result).toMatchObject({ ran: true, outcome: 'ok', command: 'ping' });
    expect(await inbound('edge-ping-1')).toEqual([
      { source: 'edge', command: 'ping', outcome: 'ok', sender_staff_id: 'alice', conversation_id: 'cid-local-chat' },
    ]);
  });

  it('gives the same replies and the same audit row as the direct callback', async () => {
    for (const text of ['/whoami', '/pnig', '/help ping']) {
      const a = viaEdge.replies.length;
      const e = await viaEdge.send(text);
      const edgeReply = await viaEdge.waitFor(() => true, 15_000, a);
      const b = direct.replies.length;
      const d = await direct.send(text);
      const directReply = await direct.waitFor(() => true, 15_000, b);
      expect(edgeReply.body).toEqual(directReply.body);
      await waitUntil(async () => (await inbound(e.msgId))[0]?.outcome !== 'received', 10_000, 'edge row finished');
      const [edgeRow] = await inbound(e.msgId);
      const [directRow] = await inbound(d.msgId);
      expect({ ...edgeRow, source: 'http' }).toEqual(directRow);
    }
  });

  it('refuses a forged, missing or stale sign with 401 and queues nothing', async () => {
    const ts = String(Date.now());
    const stale = String(Date.now() - 3_600_001);
    const attempts = [
      await viaEdge.send('/ping', { sign: computeSign(ts, 'wrong-secret'), timestamp: ts }),
      await viaEdge.send('/ping', { sign: `AAAA${computeSign(ts, TEST_SECRET).slice(4)}`, timestamp: ts }),
      await viaEdge.send('/ping', { sign: null }),
      await viaEdge.send('/ping', { timestamp: stale, sign: computeSign(stale, TEST_SECRET) }),
    ];
    for (const a of attempts) {
      expect(a.status).toBe(401);
      expect(JSON.parse(a.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      expect(await inbound(a.msgId)).toEqual([]);
      expect(await queuedJobs(a.msgId)).toEqual([]);
    }
  });

  it('runs a msgId delivered to both the Worker and the Node callback once, whichever comes first', async () => {
    const pongs = () => [...viaEdge.replies, ...direct.replies].filter((x) => x.text.startsWith('pong')).length;
    for (const [first, second, msgId] of [
      [viaEdge, direct, 'both-edge-first'],
      [direct, viaEdge, 'both-node-first'],
    ] as const) {
      const before = pongs();
      const a = await first.send('/ping', { msgId });
      const b = await second.send('/ping', { msgId });
      expect([a.status, b.status]).toEqual([200, 200]);
      await waitUntil(() => pongs() > before, 15_000, 'a pong');
      // Every path has had its chance: the row is finished and any queued job has ended.
      await waitUntil(async () => (await inbound(msgId))[0]?.outcome === 'ok', 10_000, 'row finished');
      for (const j of await queuedJobs(msgId)) await waitForStatus(tdb.db, j.id, ['succeeded', 'failed']);
      const marker = viaEdge.replies.length;
      await viaEdge.send('/whoami');
      await viaEdge.waitFor((x) => x.text.includes('alice'), 15_000, marker);
      expect(pongs()).toBe(before + 1);
      expect(await inbound(msgId)).toHaveLength(1);
    }
    // The Worker saw the second delivery of the Node-first message as a duplicate and queued nothing.
    expect(await queuedJobs('both-node-first')).toEqual([]);
  });
});

describe('a message queued at the edge whose job never runs', () => {
  it('is answered by the inbound sweep of an instance that runs no jobs, once', async () => {
    const db = await createTestDb('postgres');
    // No job loop here, and a short lease: only the sweep can answer.
    const node = await testServer(db.db, { RUN_JOBS: 'false', INBOUND_LEASE_MS: '500' });
    const edge = await startWorker(script, db.url as string, { DINGTALK_CLIENT_SECRET: TEST_SECRET });
    const chat = await createLocalChat({ url: edge.url, secret: TEST_SECRET, staffId: 'alice' });
    try {
      const r = await chat.send('/ping', { msgId: 'edge-orphan-1' });
      expect(JSON.parse(r.body)).toEqual({ queued: true });
      await chat.waitFor((x) => x.text.startsWith('pong'), 15_000);
      const [row] = await db.db.query<{ source: string; outcome: string; attempts: number }>(
        'select source, outcome, attempts from inbound_messages where msg_id = $1',
        ['edge-orphan-1'],
      );
      expect(row).toEqual({ source: 'edge', outcome: 'ok', attempts: 1 });
      // The job, if a runner took it now, would find the message handled.
      const [job] = await db.db.query<{ status: string }>(`select status from jobs where kind = $1`, [QUEUED_CHAT_KIND]);
      expect(job?.status).toBe('queued');
      expect(chat.replies.filter((x) => x.text.startsWith('pong'))).toHaveLength(1);
    } finally {
      await chat.close();
      await edge.close();
      await node.stop();
      await db.drop();
    }
  });
});
