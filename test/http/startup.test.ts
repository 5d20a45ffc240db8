import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runScript } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';

let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('postgres');
});
afterAll(async () => tdb?.drop());

describe('npm start on a busy port', () => {
  it('prints one line naming the port and the variable to set, and exits 1', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const r = await runScript('src/main.ts', [], {
        DATABASE_URL: tdb.url as string,
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'intake-port-')),
        PORT: String(port),
        HOST: '127.0.0.1',
        RUN_JOBS: 'false',
      });
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toEqual([
        `port ${port} on 127.0.0.1 is already in use: stop the other process, or set PORT to a free port (e.g. PORT=3001; PORT=0 picks any)`,
      ]);
      expect(r.stdout).not.toContain('EADDRINUSE');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
