import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken, revokeApiToken } from '../../src/http/tokens';
import type { RunningServer } from '../../src/server';
import { AMQP_URL, collect, connectBroker, dropQueue, uniqueQueue } from '../helpers/amqp';
import { createTestDb, type TestDb } from '../helpers/db';
import { testServer } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';
import { buildWorker, type LocalWorker, startWorker } from './worker-harness';

// Webhooks through the Worker (workerd) and through a Node instance, on one database: the same
// tokens, limits and answers; what the edge queues runs on the Node instance.
let script: string;
let tdb: TestDb;
let server: RunningServer;
let worker: LocalWorker;
let broker: { conn: ChannelModel; ch: Channel };
let operator: string;
const queues: string[] = [];
const ENV = { AMQP_URL, PUSH_ALLOWED_QUEUES: 'test_*', PUBLIC_URL: 'https://edge.example.com' };

const post = (base: string, path: string, token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
/** The same call to the Worker and to the Node instance: status and JSON body of each. */
async function both(path: string, token: string | undefined, body: unknown) {
  const e = await post(worker.url, path, token, body);
  const n = await post(server.url, path, token, body);
  return { edge: { status: e.status, body: await e.json() }, node: { status: n.status, body: await n.json() } };
}

beforeAll(async () => {
  const [built, db, b] = await Promise.all([buildWorker(), createTestDb('postgres'), connectBroker()]);
  script = built.script;
  tdb = db;
  broker = b;
  server = await testServer(tdb.db, ENV);
  worker = await startWorker(script, tdb.url as string, { ...ENV, DINGTALK_CLIENT_SECRET: 'edge-hooks-secret' });
  operator = await createApiToken(tdb.db, 'edge-ops', 'operator', 'test');
}, 120_000);
afterAll(async () => {
  for (const q of queues) await dropQueue(broker.ch, q);
  await broker?.conn.close();
  await worker?.close();
  await server?.stop();
  await tdb?.drop();
});

describe('webhooks through the Worker', () => {
  it('refuses a missing, unknown or revoked token with the same 401 as the Node route', async () => {
    const revoked = await createApiToken(tdb.db, 'edge-old', 'operator', 'test');
    const live = await post(worker.url, '/hooks/commands/ping', revoked, {});
    expect(live.status).toBe(202);
    expect(await revokeApiToken(tdb.db, 'edge-old')).toBe(true);
    for (const token of [undefined, 'cob_not-a-real-token', revoked]) {
      const r = await both('/hooks/commands/ping', token, {});
      expect(r.edge.status).toBe(401);
      expect(r.edge).toEqual(r.node);
      expect(r.edge.body).toMatchObject({ ok: false, error: { code: 'unauthorized', field: 'Authorization' } });
    }
  });

  it('queues a command for a valid token: 202 with a status URL whose job holds the Node answer', async () => {
    const res = await post(worker.url, '/hooks/commands/whoami', operator, {});
    expect(res.status).toBe(202);
    const body = (await res.json()) as { ok: boolean; jobId: number; statusUrl: string };
    expect(body).toMatchObject({ ok: true, command: 'whoami', statusUrl: `https://edge.example.com/api/jobs/${body.jobId}` });
    await waitForStatus(tdb.db, body.jobId, ['succeeded']);
    // The status URL, asked of the Worker, shows the answer the Node route gives directly.
    const status = await fetch(`${worker.url}/api/jobs/${body.jobId}`, { headers: { authorization: `Bearer ${operator}` } });
    expect(status.status).toBe(200);
    const job = ((await status.json()) as { job: { status: string; result: { status: number; body: unknown } } }).job;
    const direct = await post(server.url, '/hooks/commands/whoami', operator, {});
    expect(job.status).toBe('succeeded');
    expect(job.result).toEqual({ status: direct.status, body: await direct.json() });
  });

  it('refuses a bad command with the same 4xx body as the Node route, and queues nothing', async () => {
    const viewer = await createApiToken(tdb.db, 'edge-viewer', 'viewer', 'test');
    const before = await tdb.db.query<{ n: number }>(`select count(*)::int as n from jobs where kind = 'webhook_command'`);
    const cases: [string, string, unknown, number][] = [
      ['/hooks/commands/pnig', operator, {}, 404],
      ['/hooks/commands/help', operator, { command: 'ping', extra: 1 }, 400],
      ['/hooks/commands/cleanup', viewer, {}, 403],
      ['/hooks/commands/job', operator, { id: 'abc' }, 400],
      ['/hooks/commands/help', operator, 'not json', 400],
    ];
    for (const [path, token, body, status] of cases) {
      const r = await both(path, token, body);
      expect(r.edge, path).toEqual(r.node);
      expect(r.edge.status, path).toBe(status);
    }
    const after = await tdb.db.query<{ n: number }>(`select count(*)::int as n from jobs where kind = 'webhook_command'`);
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('answers bad push requests with the same 4xx bodies as the Node route, and queues nothing', async () => {
    const before = await tdb.db.query<{ n: number }>(`select count(*)::int as n from jobs where kind = 'order_push'`);
    const cases: unknown[] = [
      'not json',
      [1, 2],
      { overides: { store: 12 }, items: 'A001' },
      { overrides: { store: 12 }, items: [{ sku: 'A001', qty: 2 }] },
      { overrides: { store: 12 }, items: 'A001', queue: 'prod_orders' },
      { overrides: { store: 12 }, items: 'A001', count: 0 },
    ];
    for (const body of cases) {
      const r = await both('/hooks/push/refund', operator, body);
      expect(r.edge.status).toBeGreaterThanOrEqual(400);
      expect(r.edge.status).toBeLessThan(500);
      expect(r.edge).toEqual(r.node);
    }
    const unknownType = await both('/hooks/push/refnud', operator, { overrides: { store: 12 }, items: 'A001' });
    expect(unknownType.edge).toEqual(unknownType.node);
    expect(unknownType.edge.status).toBe(400);
    expect(JSON.stringify(unknownType.edge.body)).toContain('refund'); // the suggestion
    const after = await tdb.db.query<{ n: number }>(`select count(*)::int as n from jobs where kind = 'order_push'`);
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('publishes a push queued at the edge to RabbitMQ through the Node instance, once per Idempotency-Key', async () => {
    const queue = uniqueQueue('edge_push');
    queues.push(queue);
    const body = { overrides: { store: '12' }, items: [{ sku: 'A001', quantity: 2 }], count: 3, queue };
    const first = await post(worker.url, '/hooks/push/refund', operator, body, { 'idempotency-key': 'edge-push-1' });
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as { jobId: number; statusUrl: string };
    expect(accepted.statusUrl).toBe(`https://edge.example.com/api/jobs/${accepted.jobId}`);
    const again = await post(worker.url, '/hooks/push/refund', operator, body, { 'idempotency-key': 'edge-push-1' });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(accepted);
    const job = await waitForStatus(tdb.db, accepted.jobId, ['succeeded', 'failed'], 30_000);
    expect(job.status).toBe('succeeded');
    const c = await collect(broker.ch, queue);
    await c.waitFor(3);
    await c.drain();
    expect(c.messages).toHaveLength(3);
    expect(c.bodies()[0]).toMatchObject({ storeId: '12', items: [{ skuCode: 'A001', refundQuantity: 2 }] });
    const pushes = await tdb.db.query<{ n: number }>(
      `select count(*)::int as n from jobs where kind = 'order_push' and requested_by = 'token:edge-ops'`,
    );
    expect(pushes[0]?.n).toBe(1);
  });

  it('names a missing secret or bad setting on every request until it is fixed', async () => {
    const bare = await startWorker(script, tdb.url as string, { RATE_LIMIT_PER_MINUTE: 'lots' });
    try {
      const r = await fetch(`${bare.url}/hooks/commands/ping`, { method: 'POST' });
      expect(r.status).toBe(503);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('misconfigured');
      expect(body.error.message).toContain('wrangler secret put DINGTALK_CLIENT_SECRET');
      expect(body.error.message).toContain('RATE_LIMIT_PER_MINUTE');
    } finally {
      await bare.close();
    }
  });

  it('reports its own health and the database behind it', async () => {
    const r = await fetch(`${worker.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', role: 'edge', database: 'ok' });
  });
});
