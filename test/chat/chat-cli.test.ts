import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server';
import { NODE_ARGS, ROOT, runScript } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';

// `npm run chat` (tools/chat-cli.ts) as a user runs it: a child process with piped output.
let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('postgres');
});
afterAll(async () => tdb?.drop());

const cliEnv = { DINGTALK_CLIENT_SECRET: TEST_SECRET, DINGTALK_STREAM: 'off' };

describe('npm run chat', () => {
  it('prints every byte of long output into a pipe read by a slow reader (no 64 KB cut)', async () => {
    // A bot that answers one callback with five 17 KB replies on the sessionWebhook, as the real one posts them.
    const reply = (i: number) => `${i}:${'字'.repeat(17_000 / 3)}`;
    let delivered = 0;
    const bot = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        res.setHeader('content-type', 'application/json');
        res.end('{}');
        const { sessionWebhook } = JSON.parse(body) as { sessionWebhook: string };
        for (let i = 0; i < 5; i++) {
          await fetch(sessionWebhook, { method: 'POST', body: JSON.stringify({ msgtype: 'text', text: { content: reply(i) } }) });
          delivered += 1;
        }
      });
    });
    await new Promise<void>((r) => bot.listen(0, '127.0.0.1', r));
    try {
      const { port } = bot.address() as AddressInfo;
      const child = spawn(
        process.execPath,
        [...NODE_ARGS, path.join(ROOT, 'tools/chat-cli.ts'), '--url', `http://127.0.0.1:${port}`, '--quiet', '200', '/help'],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...cliEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      // The reader (like `| wc -c` on a busy machine) only starts reading a while after the last
      // reply: a client that exits without flushing has lost what the 64 KB pipe could not hold.
      child.stdout.pause();
      const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
      await waitUntil(() => delivered === 5, 20_000, 'all replies delivered');
      const slowReader = setTimeout(() => child.stdout.resume(), 1500);
      const code = await exited;
      clearTimeout(slowReader);
      expect(code).toBe(0);
      const stdout = Buffer.concat(chunks).toString('utf8');
      expect(Buffer.byteLength(stdout)).toBeGreaterThan(64 * 1024);
      expect(stdout === [0, 1, 2, 3, 4].map((i) => `${reply(i)}\n\n`).join('')).toBe(true);
    } finally {
      await new Promise((r) => bot.close(r));
    }
  });

  describe('following a job', () => {
    let front: RunningServer;
    beforeAll(async () => {
      // Takes requests but runs no jobs: the job finishes only when the test starts a runner.
      front = await testServer(tdb.db, { RUN_JOBS: 'false', ADMIN_STAFF_IDS: 'local-user' });
    });
    afterAll(async () => front?.stop());

    function startCli(args: string[]) {
      const child = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'tools/chat-cli.ts'), '--url', front.url, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...cliEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      return { child, exited, out: () => stdout, err: () => stderr };
    }

    it('waits past --wait for the final message of the job the command started, and the bot records it delivered', async () => {
      const cli = startCli(['--wait', '5', '--quiet', '200', '/cleanup']);
      try {
        await waitUntil(() => cli.out().includes('已开始清理'), 20_000, 'the first reply');
        const id = Number(/任务 #(\d+)/.exec(cli.out())?.[1]);
        await waitUntil(() => cli.err().includes(`following job #${id}`), 10_000, 'the client to follow the job');
        // Only now may the job run: without following, the client would be gone by the time it ends.
        const worker = await testServer(tdb.db, { ADMIN_STAFF_IDS: 'local-user' });
        try {
          expect(await cli.exited).toBe(0);
          expect(cli.out()).toContain(`任务 #${id}（清理过期数据）已完成`);
          // The client's sessionWebhook answered like DingTalk's ({errcode:0}): delivered once, no retry pending.
          const [job] = await tdb.db.query<{ notify_attempts: number; notified_at: Date | null; notify_next_at: Date | null }>(
            'select notify_attempts, notified_at, notify_next_at from jobs where id = $1',
            [id],
          );
          expect(job).toMatchObject({ notify_attempts: 1, notify_next_at: null });
          expect(job?.notified_at).toBeInstanceOf(Date);
        } finally {
          await worker.stop();
        }
      } finally {
        if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      }
    }, 60_000);

    it('stops after the first replies with --no-follow', async () => {
      const r = await runScript('tools/chat-cli.ts', ['--url', front.url, '--quiet', '200', '--no-follow', '/cleanup days=9'], cliEnv);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/清理任务 #\d+ 已在进行中|已开始清理/);
      expect(r.stderr).not.toContain('following job');
    });
  });
});
