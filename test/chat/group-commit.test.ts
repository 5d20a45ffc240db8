import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { claimInbound, finishInbound } from '../../src/chat/inbound';
import { takeRateLimit } from '../../src/chat/rate-limit';
import type { Database } from '../../src/db/client';
import type { Deps } from '../../src/deps';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testDeps } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';

// Per-message writes (claims, finishes, rate-limit counts) made in one event-loop turn share one
// statement; every caller still waits for its own statement, so nothing is answered or replied
// before it is stored.
let tdb: TestDb;
beforeAll(async () => {
  tdb = await createTestDb('postgres');
});
afterAll(async () => tdb?.drop());

/** The test database, with every statement written down and some made to hang (a process that died). */
function watched(hang: (text: string) => boolean = () => false) {
  const texts: string[] = [];
  const db: Database = {
    ...tdb.db,
    query<T>(text: string, params?: unknown[]) {
      texts.push(text);
      return hang(text) ? new Promise<T[]>(() => {}) : tdb.db.query<T>(text, params);
    },
  };
  return { db, texts, count: (re: RegExp) => texts.filter((t) => re.test(t)).length };
}

async function appOn(deps: Deps, staffId = 'alice') {
  const srv = serve({ fetch: createApp(deps).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as AddressInfo;
  const chat = await createLocalChat({ url: `http://127.0.0.1:${port}`, secret: TEST_SECRET, staffId });
  return { chat, close: async () => Promise.all([chat.close(), new Promise((r) => srv.close(() => r(null)))]) };
}

const row = async (msgId: string) => {
  const [r] = await tdb.db.query<{ outcome: string; attempts: number; command: string | null; finished_at: Date | null }>(
    'select outcome, attempts, command, finished_at from inbound_messages where msg_id = $1',
    [msgId],
  );
  return r;
};
const pongs = (chat: LocalChat, from = 0) => chat.replies.slice(from).filter((r) => r.text.startsWith('pong')).length;

describe('group commit', () => {
  it('sends the claims, finishes and counts of one turn as one statement each, and answers every caller', async () => {
    const w = watched();
    const caller = { key: 'gc-alice', role: 'viewer' as const };
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        claimInbound({ db: w.db }, { source: 'http', robotCode: 'gc', msgId: `gc-turn-${i}`, text: '/ping', caller }),
      ),
    );
    expect(w.count(/insert into inbound_messages/)).toBe(1);
    expect(new Set(claims.map((c) => (c.claimed ? c.id : 0))).size).toBe(20);
    // The same message twice in one turn: one claim, one duplicate (Postgres cannot touch a row twice in one statement).
    const twice = await Promise.all(
      [0, 1].map(() => claimInbound({ db: w.db }, { source: 'http', robotCode: 'gc', msgId: 'gc-twice', text: '/ping', caller })),
    );
    expect(twice.filter((c) => c.claimed)).toHaveLength(1);
    expect(twice.find((c) => !c.claimed)).toMatchObject({ claimed: false, outcome: 'received' });
    // An item Postgres refuses fails alone: the statement is retried item by item.
    const mixed = await Promise.allSettled([
      claimInbound({ db: w.db }, { source: 'http', robotCode: 'gc', msgId: 'gc-good', text: '/ping', caller }),
      claimInbound({ db: w.db }, { source: 'http', robotCode: 'gc', msgId: 'gc-bad', text: 'nul \u0000 here', caller }),
    ]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(mixed[0]).toMatchObject({ value: { claimed: true } });
    // Seen-before rows come back from the same statement.
    const again = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        claimInbound({ db: w.db }, { source: 'http', robotCode: 'gc', msgId: `gc-turn-${i}`, text: '/ping', caller }),
      ),
    );
    expect(again.every((c) => !c.claimed && c.outcome === 'received')).toBe(true);

    const before = w.count(/update inbound_messages as m set/);
    await Promise.all(claims.map((c, i) => finishInbound({ db: w.db }, c.id, { outcome: 'ok', command: 'ping', args: { i } })));
    expect(w.count(/update inbound_messages as m set/) - before).toBe(1);
    const rows = await tdb.db.query<{ msg_id: string; outcome: string; args: { i: number }; finished_at: Date | null }>(
      `select msg_id, outcome, args, finished_at from inbound_messages where robot_code = 'gc' and msg_id like 'gc-turn-%'`,
    );
    expect(rows).toHaveLength(20);
    for (const r of rows) expect(`gc-turn-${r.args.i}`).toBe(r.msg_id); // each row got its own finish
    expect(rows.every((r) => r.outcome === 'ok' && r.finished_at)).toBe(true);

    // n counts of one key in one turn: one statement, and the counts n serial calls would get.
    const counts = await Promise.all(Array.from({ length: 6 }, () => takeRateLimit(w.db, 'user:gc-rl', 4)));
    expect(w.count(/^\s*insert into rate_limits/)).toBe(1);
    expect(counts.map((c) => c.count).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(counts.filter((c) => !c.allowed)).toHaveLength(2);
  });

  it('counts chat messages against the rate limit in the statement that claims them, as serial counts would', async () => {
    const w = watched();
    const deps = testDeps(w.db, { RATE_LIMIT_PER_MINUTE: '5' });
    const { chat, close } = await appOn(deps, 'gc-limited');
    try {
      const sent = await Promise.all(Array.from({ length: 8 }, (_, i) => chat.send('/ping', { msgId: `gc-rl-${i}` })));
      expect(sent.map((s) => s.status)).toEqual(Array(8).fill(200));
      await waitUntil(() => chat.replies.length >= 8, 10_000, '8 replies');
      await deps.background.drain(5000);
      expect(pongs(chat)).toBe(5);
      const limited = chat.replies.filter((r) => r.text.includes('每人每分钟最多 5 条'));
      expect(limited).toHaveLength(3);
      // No statement of its own: the counts came with the claims.
      expect(w.count(/^\s*insert into rate_limits/)).toBe(0);
      expect(w.count(/insert into rate_limits/)).toBe(w.count(/insert into inbound_messages/));
      const [stored] = await tdb.db.query<{ count: number }>(`select count from rate_limits where key = 'user:gc-limited'`);
      expect(stored?.count).toBe(8);
      // A duplicate (redelivered) message is not counted again.
      expect(JSON.parse((await chat.send('/ping', { msgId: 'gc-rl-0' })).body)).toEqual({ duplicate: true });
      const [after] = await tdb.db.query<{ count: number }>(`select count from rate_limits where key = 'user:gc-limited'`);
      expect(after?.count).toBe(8);
    } finally {
      await close();
    }
  });

  it('runs 40 concurrent callbacks once each, answering and replying only after they are stored', async () => {
    const w = watched();
    const deps = testDeps(w.db, { RATE_LIMIT_PER_MINUTE: '1000' });
    const { chat, close } = await appOn(deps);
    try {
      const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => chat.send('/ping', { msgId: `gc-cb-${i}` })));
      expect(sent.map((s) => s.status)).toEqual(Array(40).fill(200));
      await waitUntil(() => pongs(chat) >= 40, 10_000, '40 pongs');
      await deps.background.drain(5000);
      for (let i = 0; i < 40; i++) expect(await row(`gc-cb-${i}`)).toMatchObject({ outcome: 'ok', attempts: 1, command: 'ping' });
      expect(pongs(chat)).toBe(40);
      // Fewer statements than messages: some turns carried several.
      expect(w.count(/insert into inbound_messages/)).toBeLessThanOrEqual(40);
      expect(w.count(/^select 1$/)).toBeLessThanOrEqual(40); // pings at the same time share their probe
    } finally {
      await close();
    }
  });

  it('a process that died before its batch of finishes was stored: the redelivery runs the message once', async () => {
    // Process A records and runs the message, then "dies": its finish (and its lease renewals) never reach the database.
    const a = watched((text) => /update inbound_messages/.test(text));
    const depsA = testDeps(a.db, { INBOUND_LEASE_MS: '800' });
    const A = await appOn(depsA, 'carol');
    const first = await A.chat.send('/ping', { msgId: 'gc-crash-1' });
    expect(JSON.parse(first.body)).toEqual({}); // acked once recorded and run; its outcome is never stored
    expect(pongs(A.chat)).toBe(0); // replies wait for the stored outcome: none went out
    expect(await row('gc-crash-1')).toMatchObject({ outcome: 'received', attempts: 1, finished_at: null });
    await A.close();

    // Process B gets DingTalk's redeliveries once the lease is stale: two at once, one runs.
    const depsB = testDeps(tdb.db, { INBOUND_LEASE_MS: '800' });
    const B = await appOn(depsB, 'carol');
    try {
      await waitUntil(
        async () =>
          (
            await tdb.db.query<{ stale: boolean }>(
              `select claimed_at < now() - interval '900 milliseconds' as stale from inbound_messages where msg_id = 'gc-crash-1'`,
            )
          )[0]?.stale,
        10_000,
        'a stale lease',
      );
      const redelivered = await Promise.all([0, 1].map(() => B.chat.send('/ping', { msgId: 'gc-crash-1' })));
      expect(redelivered.map((r) => r.body).sort()).toEqual(['{"duplicate":true}', '{}']);
      await B.chat.waitFor((r) => r.text.startsWith('pong'));
      await depsB.background.drain(5000);
      expect(await row('gc-crash-1')).toMatchObject({ outcome: 'ok', attempts: 2, command: 'ping' });
      expect(pongs(B.chat)).toBe(1);
      const late = await B.chat.send('/ping', { msgId: 'gc-crash-1' });
      expect(JSON.parse(late.body)).toEqual({ duplicate: true });
    } finally {
      await B.close();
    }
  });
});
