import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Deps } from '../../src/deps';
import type { RunningServer } from '../../src/server';
import { startServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { NODE_ARGS, ROOT } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testConfig, testDeps, testLog } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';

// Nothing is lost when a process dies between recording a chat message and dispatching it.
let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('postgres');
});
afterAll(async () => tdb?.drop());

const row = async (msgId: string) => {
  const [r] = await tdb.db.query<{ outcome: string; attempts: number; command: string | null }>(
    'select outcome, attempts, command from inbound_messages where msg_id = $1',
    [msgId],
  );
  return r;
};
const pongs = (chat: LocalChat) => chat.replies.filter((r) => r.text.startsWith('pong')).length;

/** A fault point that fails the first dispatch of each msgId, like a crash right after the insert. */
function failFirst() {
  const seen = new Set<string>();
  return {
    async afterInboundRecorded(m: { msgId: string }) {
      if (seen.has(m.msgId)) return;
      seen.add(m.msgId);
      throw new Error('simulated crash between record and dispatch');
    },
  };
}

describe('a redelivery of a message whose handling never finished', () => {
  let deps: Deps;
  let close: () => Promise<void>;
  let chat: LocalChat;
  beforeAll(async () => {
    // The HTTP app alone (no sweep timer), so only the redelivery can finish the message.
    deps = testDeps(tdb.db, { INBOUND_LEASE_MS: '800' }, { faults: failFirst() });
    const srv = serve({ fetch: createApp(deps).fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => srv.once('listening', r));
    const { port } = srv.address() as AddressInfo;
    close = () => new Promise((r) => srv.close(() => r()));
    chat = await createLocalChat({ url: `http://127.0.0.1:${port}`, secret: TEST_SECRET, staffId: 'alice' });
  });
  afterAll(async () => {
    await chat?.close();
    await deps?.background.drain(5000);
    await close?.();
  });

  it('runs it once: a duplicate while the lease is fresh, the command after it expired, a duplicate after that', async () => {
    const first = await chat.send('/ping', { msgId: 'redeliver-1' });
    expect(first.status).toBe(200);
    expect(await row('redeliver-1')).toMatchObject({ outcome: 'received', attempts: 1 });
    // DingTalk redelivers at once: the first handler may still be alive, so this is a duplicate.
    const early = await chat.send('/ping', { msgId: 'redeliver-1' });
    expect(JSON.parse(early.body)).toEqual({ duplicate: true });
    // The lease ran out (nobody renews it): the next redelivery runs the command.
    await waitUntil(
      async () =>
        (
          await tdb.db.query<{ stale: boolean }>(
            `select claimed_at < now() - interval '900 milliseconds' as stale from inbound_messages where msg_id = 'redeliver-1'`,
          )
        )[0]?.stale,
      10_000,
      'a stale lease',
    );
    const late = await chat.send('/ping', { msgId: 'redeliver-1' });
    expect(JSON.parse(late.body)).toEqual({});
    await chat.waitFor((r) => r.text.startsWith('pong'));
    expect(await row('redeliver-1')).toMatchObject({ outcome: 'ok', attempts: 2, command: 'ping' });
    const again = await chat.send('/ping', { msgId: 'redeliver-1' });
    expect(JSON.parse(again.body)).toEqual({ duplicate: true });
    await deps.background.drain(5000);
    expect(pongs(chat)).toBe(1);
  });
});

describe('the sweep', () => {
  it('runs a message left received once its lease is twice stale, and apologises after three attempts', async () => {
    let failures = 0;
    const server: RunningServer = await startServer(testConfig({ INBOUND_LEASE_MS: '500', DINGTALK_REPLY_HOSTS: '127.0.0.1' }), testLog, {
      db: tdb.db,
      faults: {
        async afterInboundRecorded(m) {
          // /ping fails once (the sweep then runs it); /whoami fails every time (the sweep gives up).
          if (m.msgId === 'sweep-ping' && failures++ > 0) return;
          throw new Error('simulated crash between record and dispatch');
        },
      },
    });
    const chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice' });
    try {
      await chat.send('/ping', { msgId: 'sweep-ping' });
      await chat.send('/whoami', { msgId: 'sweep-whoami' });
      await chat.waitFor((r) => r.text.startsWith('pong'), 15_000);
      expect(await row('sweep-ping')).toMatchObject({ outcome: 'ok', attempts: 2 });
      const sorry = await chat.waitFor((r) => r.text.includes('/whoami'), 20_000);
      expect(sorry.text).toContain('没有执行');
      expect(await row('sweep-whoami')).toMatchObject({ outcome: 'abandoned', attempts: 4 });
      expect(pongs(chat)).toBe(1);
    } finally {
      await chat.close();
      await server.stop();
    }
  });
});

describe('a real process kill between record and dispatch', () => {
  function startChild(env: Record<string, string>) {
    const child = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'test/fixtures/intake-server.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise((r) => child.once('exit', r));
    return {
      child,
      exited,
      output: () => out,
      url: () => waitUntil(() => /LISTENING (\S+)/.exec(out)?.[1], 60_000, `the child to listen: ${out}`),
    };
  }

  it('runs the command once when DingTalk redelivers it to the restarted bot', async () => {
    const env = {
      DATABASE_URL: tdb.url as string,
      DINGTALK_CLIENT_SECRET: TEST_SECRET,
      DINGTALK_REPLY_HOSTS: '127.0.0.1',
      DINGTALK_STREAM: 'off',
      HOST: '127.0.0.1',
      PORT: '0',
      RUN_JOBS: 'false',
      INBOUND_LEASE_MS: '4000',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'intake-kill-')),
    };
    const first = startChild({ ...env, FAULT: 'hang' });
    const chat = await createLocalChat({ url: await first.url(), secret: TEST_SECRET, staffId: 'alice' });
    let second: ReturnType<typeof startChild> | undefined;
    try {
      const sent = await chat.send('/ping', { msgId: 'killed-1' });
      // The callback still answers (within 1.5 s): the message is recorded, DingTalk will not resend it.
      expect(sent.status).toBe(200);
      await waitUntil(() => first.output().includes('FAULT killed-1'), 10_000, 'the fault point');
      first.child.kill('SIGKILL');
      await first.exited;
      expect(await row('killed-1')).toMatchObject({ outcome: 'received', attempts: 1 });

      second = startChild(env);
      const url = await second.url();
      const redeliver = await createLocalChat({ url, secret: TEST_SECRET, staffId: 'alice' });
      try {
        // Redeliver once the dead process's lease ran out, before the sweep's longer deadline.
        await waitUntil(
          async () =>
            (
              await tdb.db.query<{ stale: boolean }>(
                `select claimed_at < now() - interval '4100 milliseconds' as stale from inbound_messages where msg_id = 'killed-1'`,
              )
            )[0]?.stale,
          20_000,
          'a stale lease',
        );
        const r = await redeliver.send('/ping', { msgId: 'killed-1' });
        // The redelivery runs it ({}); only on a machine so slow that the restarted bot's sweep
        // (twice the lease) got there first is it a duplicate — and then the sweep ran it.
        const ranByRedelivery = JSON.stringify(JSON.parse(r.body)) === '{}';
        if (!ranByRedelivery) expect(JSON.parse(r.body)).toEqual({ duplicate: true });
        await waitUntil(() => pongs(redeliver) + pongs(chat) >= 1, 15_000, 'the pong');
        // One more handling attempt than the killed one: it ran exactly once after the crash.
        expect(await row('killed-1')).toMatchObject({ outcome: 'ok', attempts: 2 });
        const dup = await redeliver.send('/ping', { msgId: 'killed-1' });
        expect(JSON.parse(dup.body)).toEqual({ duplicate: true });
        expect(pongs(ranByRedelivery ? redeliver : chat)).toBe(1);
      } finally {
        await redeliver.close();
      }
    } finally {
      await chat.close();
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    }
  }, 90_000);
});
