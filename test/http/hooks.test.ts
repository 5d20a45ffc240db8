import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Deps } from '../../src/deps';
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
    expect(await res.text()).toContain('revoked');
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
    const notJson = await app.request('/hooks/commands/ping', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: '{',
    });
    expect(notJson.status).toBe(400);
  });

  it('runs a call with a repeated Idempotency-Key once', async () => {
    const first = await call('/hooks/commands/ping', adminToken, {}, { 'idempotency-key': 'k-1' });
    const second = await call('/hooks/commands/ping', adminToken, {}, { 'idempotency-key': 'k-1' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(409);
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
