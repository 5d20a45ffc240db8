import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandDef } from '../../src/chat/define-command';
import { hasRole } from '../../src/chat/roles';
import { createApiToken } from '../../src/http/tokens';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';

// A viewer is refused every operator/admin command from chat, and every operator/admin route over HTTP.
let tdb: TestDb;
let server: RunningServer;
let chat: LocalChat;
let viewerToken: string;

/** Every command word that needs more than the viewer role, as it is typed. */
function restricted(defs: readonly CommandDef[]): { text: string; path: string; role: string }[] {
  const out: { text: string; path: string; role: string }[] = [];
  for (const def of defs) {
    if (def.run && !hasRole('viewer', def.role)) out.push({ text: `/${def.name}`, path: `/hooks/commands/${def.name}`, role: def.role });
    for (const sub of def.subcommands ?? []) {
      if (!hasRole('viewer', sub.role)) {
        out.push({ text: `/${def.name} ${sub.name}`, path: `/hooks/commands/${def.name}/${sub.name}`, role: sub.role });
      }
    }
  }
  return out;
}

beforeAll(async () => {
  tdb = await createTestDb('postgres');
  server = await testServer(tdb.db, { DEFAULT_ROLE: 'viewer', RATE_LIMIT_PER_MINUTE: '1000' });
  chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'vic' });
  viewerToken = await createApiToken(tdb.db, 'dashboard', 'viewer', 'test');
});
afterAll(async () => {
  await chat?.close();
  await server?.stop();
  await tdb?.drop();
});

describe('a viewer', () => {
  it('is refused every operator and admin command typed in chat, each naming the role it needs', async () => {
    const list = restricted(server.deps.registry.commands);
    // The shipped commands include both kinds; an empty list would prove nothing.
    expect(list.some((x) => x.role === 'operator')).toBe(true);
    expect(list.some((x) => x.role === 'admin')).toBe(true);
    for (const cmd of list) {
      const from = chat.replies.length;
      const r = await chat.send(cmd.text);
      expect(r.status).toBe(200);
      const reply = await chat.waitFor(() => true, 10_000, from);
      const role = server.deps.t(`role.${cmd.role}` as 'role.admin');
      expect(reply.text, cmd.text).toContain(`需要“${role}”权限`);
      const [row] = await tdb.db.query<{ outcome: string }>('select outcome from inbound_messages where msg_id = $1', [r.msgId]);
      expect(row?.outcome, cmd.text).toBe('forbidden');
    }
  });

  it('is refused every operator and admin route over HTTP with 403 and the one error shape', async () => {
    const post = (path: string, body: unknown = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${viewerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const routes = [
      ...restricted(server.deps.registry.commands).map((x) => x.path),
      '/hooks/push/refund',
      '/api/jobs/1/cancel',
      '/api/jobs/1/retry',
    ];
    for (const path of routes) {
      const res = await post(path);
      expect(res.status, path).toBe(403);
      expect(await res.json(), path).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.any(String) } });
    }
    // Someone else's jobs by requestedBy: admin only, said so instead of silently ignored.
    const others = await fetch(`${server.url}/api/jobs?requestedBy=alice`, { headers: { authorization: `Bearer ${viewerToken}` } });
    expect(others.status).toBe(403);
    expect(await others.json()).toMatchObject({ ok: false, error: { code: 'forbidden', field: 'requestedBy' } });
    // …while what a viewer may do still works.
    expect((await post('/hooks/commands/ping')).status).toBe(200);
    expect((await fetch(`${server.url}/api/jobs`, { headers: { authorization: `Bearer ${viewerToken}` } })).status).toBe(200);
    // A bad query names the parameter and what it takes, in the configured language.
    const get = (q: string) => fetch(`${server.url}/api/jobs?${q}`, { headers: { authorization: `Bearer ${viewerToken}` } });
    const badStatus = await get('status=done');
    expect(badStatus.status).toBe(400);
    expect(await badStatus.json()).toMatchObject({
      ok: false,
      error: {
        code: 'bad_args',
        field: 'status',
        message: expect.stringMatching(/^字段“status”应为以下之一：queued, running, succeeded, failed, cancelled/),
      },
    });
    expect(await (await get('limit=9999')).json()).toMatchObject({
      error: { field: 'limit', message: expect.stringContaining('不大于 200 的数') },
    });
    expect(await (await get('stauts=failed')).json()).toMatchObject({
      error: { field: 'stauts', message: expect.stringContaining('不认识的字段“stauts”') },
    });
  });
});
