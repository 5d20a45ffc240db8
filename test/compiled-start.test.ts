import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from './helpers/cli';

// What `npm start` runs since issue 8: the compiled bundle in dist/ (built by `npm run build`, which
// prestart runs), with source maps, on an embedded database created by a short-lived child process.
function startCompiled(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(ROOT, 'dist/src/main.js')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    get output() {
      return output;
    },
  };
}

describe('npm start (compiled JavaScript)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { cwd: ROOT });
  }, 60_000);

  it('starts on an empty data directory with the small embedded-Postgres settings, and stops cleanly', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'chatops-compiled-'));
    const port = await freePort();
    const bot = startCompiled({ PORT: String(port), HOST: '127.0.0.1' }, cwd);
    try {
      let health: Response | undefined;
      while (!health) {
        if (bot.child.exitCode !== null) throw new Error(`bot exited with ${bot.child.exitCode}: ${bot.output}`);
        health = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => (r.status === 200 ? r : undefined),
          () => undefined,
        );
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      expect(await health.json()).toMatchObject({ status: 'ok', database: { ok: true, kind: 'pglite' } });
      const conf = readFileSync(path.join(cwd, 'data/pg/postgresql.conf'), 'utf8');
      expect(conf).toContain('shared_buffers = 16MB');
      expect(conf).toContain('max_connections = 10');
    } finally {
      bot.child.kill('SIGTERM');
    }
    expect(await bot.exited).toBe(0);
  }, 120_000);

  it('names TypeScript files and lines in stack traces', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'chatops-compiled-'));
    // Nothing listens on port 1: start-up fails inside src/db/migrate.ts and logs the stack.
    const bot = startCompiled({ PORT: String(await freePort()), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }, cwd);
    expect(await bot.exited).toBe(1);
    expect(bot.output).toContain('start-up failed');
    expect(bot.output).toMatch(/src\/db\/migrate\.ts:\d+/);
    expect(bot.output).not.toMatch(/dist\/src\/[^"]*\.js:\d+/);
  }, 60_000);
});
