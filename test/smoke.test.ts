import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runScript, startMain } from './helpers/cli';

// The contract with a new user: `npm start` with no environment runs on the embedded database,
// answers /health, and `npm run chat -- "/help"` prints the command list in Chinese.
describe('npm start with an empty environment', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'chatops-smoke-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('runs on PGlite under ./data, answers /health and chats in Chinese, and keeps its data across restarts', async () => {
    const port = String(await freePort()); // the only variable: 3000 may be taken on a shared machine
    const url = `http://127.0.0.1:${port}`;

    const created = await runScript('src/cli.ts', ['token', 'create', 'smoke', '--role', 'viewer'], { CWD: cwd });
    expect(created.code, created.stderr).toBe(0);

    const server = await startMain({ PORT: port }, cwd);
    cleanups.push(() => server.stop('SIGKILL'));
    const health = await server.waitForHealth(url);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      database: { ok: true, kind: 'pglite' },
      dingtalkStream: { configured: false },
    });
    expect(existsSync(path.join(cwd, 'data', 'callback-secret'))).toBe(true);
    expect(existsSync(path.join(cwd, 'data', 'pglite.lock'))).toBe(true);

    // While the server holds the embedded database, the CLI explains instead of corrupting it.
    const locked = await runScript('src/cli.ts', ['token', 'list'], { CWD: cwd });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('in use by process');

    const chat = await runScript('tools/chat-cli.ts', ['/help'], { CWD: cwd, PORT: port });
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('可用命令');
    expect(chat.stdout).toContain('/ping');

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(existsSync(path.join(cwd, 'data', 'pglite.lock'))).toBe(false);
    const secret = readFileSync(path.join(cwd, 'data', 'callback-secret'), 'utf8');

    // Restart: same secret, same database.
    const again = await startMain({ PORT: port }, cwd);
    cleanups.push(() => again.stop('SIGKILL'));
    await again.waitForHealth(url);
    expect(readFileSync(path.join(cwd, 'data', 'callback-secret'), 'utf8')).toBe(secret);
    expect(await again.stop('SIGTERM')).toBe(0);
    const listed = await runScript('src/cli.ts', ['token', 'list'], { CWD: cwd });
    expect(listed.stdout).toMatch(/^smoke\tviewer\tlive/m);
  }, 120_000); // two cold starts of a real process: slow on a loaded machine, not a speed check

  it('refuses to start with invalid settings and lists every bad variable', async () => {
    const r = await runScript('src/main.ts', [], {
      CWD: cwd,
      PORT: 'abc',
      LOCALE: 'fr',
      DATABASE_URL: 'mysql://x',
      DINGTALK_CLIENT_ID: 'id-only',
    });
    expect(r.code).toBe(1);
    for (const v of ['PORT', 'LOCALE', 'DATABASE_URL', 'DINGTALK_CLIENT_SECRET']) expect(r.stderr).toContain(`${v}:`);
    expect(r.stderr).toContain('example: PORT=3000');
  });
});
