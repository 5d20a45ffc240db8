import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { claimWebhookCall } from '../../src/chat/inbound';
import type { Deps } from '../../src/deps';
import { createApiToken } from '../../src/http/tokens';
import { runScript } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';

let tdb: TestDb;
let deps: Deps;
let app: ReturnType<typeof createApp>;
let adminToken: string;
let viewerToken: string;

const cli = (args: string[]) => runScript('src/cli.ts', args, { DATABASE_URL: tdb.url as string });
const call = (path: string, token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  tdb = await createTestDb('postgres');
  deps = testDeps(tdb.db);
  app = createApp(deps);
  // Tokens are issued through the real CLI entry point.
  const admin = await cli(['token', 'create', 'deploy-bot', '--role', 'admin']);
  expect(admin.code, admin.stderr).toBe(0);
  adminToken = admin.stdout.trim();
  const viewer = await cli(['token', 'create', 'dashboard', '--role', 'viewer']);
  viewerToken = viewer.stdout.trim();
});
afterAll(async () => tdb?.drop());

describe('admin webhooks (POST /hooks/commands/:name)', () => {
  it('runs a command for a valid token and returns its replies', async () => {
    const res = await call('/hooks/commands/whoami', adminToken, {});
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; command: string; messages: { text: string }[] };
    expect(body).toMatchObject({ ok: true, command: 'whoami' });
    expect(body.messages[0]?.text).toContain('deploy-bot');
    expect(body.messages[0]?.text).toContain('管理员');
  });

  it('passes JSON arguments by name, positional ones included', async () => {
    const res = await call('/hooks/commands/help', viewerToken, { command: 'ping' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: { text: string }[] };
    expect(body.messages[0]?.text).toContain('/ping');
  });

  it('answers 401 without a token, with an unknown one, and after revocation', async () => {
    expect((await call('/hooks/commands/ping', undefined, {})).status).toBe(401);
    expect((await call('/hooks/commands/ping', 'cob_not-a-real-token', {})).status).toBe(401);
    const made = await cli(['token', 'create', 'temp', '--role', 'operator']);
    const temp = made.stdout.trim();
    expect((await call('/hooks/commands/ping', temp, {})).status).toBe(200);
    const revoked = await cli(['token', 'revoke', 'temp']);
    expect(revoked.code).toBe(0);
    const res = await call('/hooks/commands/ping', temp, {});
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      ok: false,
      error: { code: 'unauthorized', field: 'Authorization', message: expect.stringContaining('已吊销') },
    });
    const listed = await cli(['token', 'list']);
    expect(listed.stdout).toMatch(/temp\toperator\trevoked/);
    expect(listed.stdout).toMatch(/deploy-bot\tadmin\tlive/);
  });

  it('maps errors to status codes with the field named', async () => {
    const unknown = await call('/hooks/commands/pnig', adminToken, {});
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toContain('/ping');
    const bad = await call('/hooks/commands/help', adminToken, { command: '', extra: 1 });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_args');
    expect(body.error.message).toContain('extra');
    // An export's parameters are free-form: a value of the wrong JSON shape is named once, in words, never zod's English.
    const shape = await call('/hooks/commands/export/run', adminToken, { task: 'jobs-daily', from: { a: 1 } });
    expect(shape.status).toBe(400);
    const shapeBody = (await shape.json()) as { error: { field: string; message: string } };
    expect(shapeBody.error.field).toBe('from');
    expect(shapeBody.error.message).toMatch(/^参数 from 应为文字，收到的是“\{"a":1\}”。/);
    expect(shapeBody.error.message).not.toMatch(/Invalid input|from（from）/);
    const notJson = await app.request('/hooks/commands/ping', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: '{',
    });
    expect(notJson.status).toBe(400);
  });

  it('replays the first answer to a repeated Idempotency-Key, and 409s only a different body', async () => {
    const first = await call('/hooks/commands/ping', adminToken, {}, { 'idempotency-key': 'k-1' });
    const second = await call('/hooks/commands/ping', adminToken, {}, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    const rows = await tdb.db.query<{ n: number }>(`select count(*)::int as n from inbound_messages where msg_id = 'token:deploy-bot:k-1'`);
    expect(rows[0]?.n).toBe(1);
    // An error answer is replayed too (same status, same body)…
    const bad1 = await call('/hooks/commands/help', adminToken, { command: 'nosuch' }, { 'idempotency-key': 'k-2' });
    const bad2 = await call('/hooks/commands/help', adminToken, { command: 'nosuch' }, { 'idempotency-key': 'k-2' });
    expect(bad2.status).toBe(bad1.status);
    expect(await bad2.json()).toEqual(await bad1.json());
    // …and the same key with another body is refused, naming the header.
    const other = await call('/hooks/commands/whoami', adminToken, {}, { 'idempotency-key': 'k-1' });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ ok: false, error: { code: 'idempotency_mismatch', field: 'Idempotency-Key' } });
  });

  it('a push started through /hooks/commands says where its result will be (no chat to tell)', async () => {
    const token = await createApiToken(tdb.db, 'ops-push', 'operator', 'test');
    const res = await call('/hooks/commands/push', token, { type: 'refund', store: '12', sku: 'A001*2' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { jobId: number; statusUrl: string; messages: { text: string }[] };
    expect(body.jobId).toBeGreaterThan(0);
    expect(body.messages[0]?.text).toContain(`已受理推送任务 #${body.jobId}`);
    expect(body.messages[0]?.text).toContain(`完成后在 ${body.statusUrl} 查看结果`);
    expect(body.messages[0]?.text).not.toContain('通知你');
  });

  it('a push started from the local CLI says how to follow it there', async () => {
    const r = await cli(['push', 'refund', 'store=12', 'sku=A001']);
    expect(r.code, r.stderr).toBe(0);
    const id = Number(/^job (\d+)$/m.exec(r.stdout)?.[1]);
    expect(r.stdout).toContain(`已受理推送任务 #${id}`);
    expect(r.stdout).toContain(`完成后在 npm run cli -- job ${id} 查看结果`);
  });

  it('replays a push with the same jobId and enqueues one job', async () => {
    const body = { overrides: { store: 12 }, items: [{ sku: 'A001', quantity: 2 }], count: 1 };
    const a = await call('/hooks/push/refund', adminToken, body, { 'idempotency-key': 'push-1' });
    const b = await call('/hooks/push/refund', adminToken, body, { 'idempotency-key': 'push-1' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    const ja = (await a.json()) as { jobId: number };
    expect(await b.json()).toEqual(ja);
    const jobs = await tdb.db.query<{ n: number }>(
      `select count(*)::int as n from jobs where requested_by = 'token:deploy-bot' and kind = 'order_push'`,
    );
    expect(jobs[0]?.n).toBe(1);
  });

  it('runs a key again when its first call never finished (the process died)', async () => {
    const raw = JSON.stringify({});
    const hash = createHash('sha256').update(`POST /hooks/commands/ping\n${raw}`).digest('hex');
    // What a process that died mid-call leaves behind: the key recorded, no answer, a lease nobody renews.
    const claim = await claimWebhookCall(
      deps,
      { key: 'token:deploy-bot', role: 'admin' },
      'token:deploy-bot:k-dead',
      'POST /hooks/commands/ping',
      hash,
    );
    expect(claim.claimed).toBe(true);
    await tdb.db.query(`update inbound_messages set claimed_at = now() - interval '1 hour' where msg_id = 'token:deploy-bot:k-dead'`);
    const res = await call('/hooks/commands/ping', adminToken, {}, { 'idempotency-key': 'k-dead' });
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(await res.json()).toMatchObject({ ok: true, command: 'ping' });
    const [row] = await tdb.db.query<{ outcome: string; attempts: number }>(
      `select outcome, attempts from inbound_messages where msg_id = 'token:deploy-bot:k-dead'`,
    );
    expect(row).toMatchObject({ outcome: 'ok', attempts: 2 });
  });

  it('counts every route against one per-caller rate limit, /hooks/push included, with Retry-After', async () => {
    const limited = createApp(testDeps(tdb.db, { RATE_LIMIT_PER_MINUTE: '2' }));
    const token = await createApiToken(tdb.db, 'limited', 'operator', 'test');
    const post = (path: string, body: unknown) =>
      limited.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    expect((await post('/hooks/commands/ping', {})).status).toBe(200);
    expect((await post('/hooks/push/refund', { overrides: { store: 12 }, items: 'A001', dryRun: true })).status).toBe(200);
    const third = await post('/hooks/push/refund', { overrides: { store: 12 }, items: 'A001', dryRun: true });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await third.json()).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', message: expect.stringContaining('每分钟最多 2 次') },
    });
    const api = await limited.request('/api/jobs', { headers: { authorization: `Bearer ${token}` } });
    expect(api.status).toBe(429);
  });

  it('answers every error in one shape, in the configured locale, naming the key the caller sent', async () => {
    const shape = { ok: false, error: { code: expect.any(String), message: expect.any(String) } };
    // Auth errors in English with LOCALE=en, Chinese by default.
    const en = createApp(testDeps(tdb.db, { LOCALE: 'en' }));
    const noToken = await en.request('/hooks/commands/ping', { method: 'POST' });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toEqual({
      ok: false,
      error: {
        code: 'unauthorized',
        field: 'Authorization',
        message: expect.stringMatching(/^Missing token: send the header Authorization/),
      },
    });
    const zh = await call('/hooks/commands/ping', undefined, {});
    expect(await zh.json()).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('缺少令牌') } });
    // No route, a body that is not JSON, an unknown body key, an item error: the same shape.
    const nowhere = await app.request('/no/such/route');
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ ...shape, error: { code: 'not_found' } });
    const notJson = await app.request('/hooks/push/refund', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({
      ...shape,
      error: { code: 'bad_args', message: expect.stringContaining('不是合法的 JSON') },
    });
    const typo = await call('/hooks/push/refund', adminToken, { overides: { store: 12 }, items: 'A001' });
    expect(typo.status).toBe(400);
    expect(await typo.json()).toEqual({
      ok: false,
      error: { code: 'bad_args', field: 'overides', message: expect.stringMatching(/“overides”.*overrides, items, count, queue, dryRun/) },
    });
    const noItems = await call('/hooks/push/refund', adminToken, { overrides: { store: 12 }, items: [] });
    expect(noItems.status).toBe(400);
    expect(await noItems.json()).toMatchObject({
      ok: false,
      error: {
        code: 'bad_args',
        field: 'items',
        message: expect.stringMatching(/^缺少商品：“items”至少要有一个商品，例如 "items": \[\{"sku"/),
      },
    });
    const itemKey = await call('/hooks/push/refund', adminToken, { overrides: { store: 12 }, items: [{ sku: 'A001', qty: 2 }] });
    expect(itemKey.status).toBe(400);
    expect(await itemKey.json()).toMatchObject({
      ok: false,
      error: { code: 'bad_args', field: 'items.0.qty', message: expect.stringMatching(/“items\.0\.qty”.*sku, quantity/) },
    });
    // A wrong type says what was expected and shows the shape, in the configured language.
    const badQty = await call('/hooks/push/refund', adminToken, { overrides: { store: 12 }, items: [{ sku: 'A001', quantity: 'two' }] });
    const badQtyBody = (await badQty.json()) as { error: { message: string } };
    expect(badQtyBody).toMatchObject({ ok: false, error: { code: 'bad_args', field: 'items.0.quantity' } });
    expect(badQtyBody.error.message).toMatch(/应为数字.*"quantity":2/);
    expect(badQtyBody.error.message).not.toMatch(/Invalid input|expected number/);
    // A job the token may not see is a 404 in the same shape.
    const missing = await app.request('/api/jobs/999999', { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ ok: false, error: { code: 'not_found', field: 'id' } });
  });

  it('refuses CLI token creation with a bad role or a duplicate name', async () => {
    const badRole = await cli(['token', 'create', 'x', '--role', 'root']);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toContain('--role must be one of viewer, operator, admin');
    const dup = await cli(['token', 'create', 'deploy-bot']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');
  });

  it('runs any chat command from the CLI', async () => {
    const r = await cli(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('可用命令');
    const bad = await cli(['nosuch']);
    expect(bad.code).toBe(2);
  });
});
