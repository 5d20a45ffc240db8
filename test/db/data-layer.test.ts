import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishInbound, recordInbound } from '../../src/chat/inbound';
import { takeRateLimit } from '../../src/chat/rate-limit';
import { migrateDb } from '../../src/db/migrate';
import { createApiToken, listApiTokens, revokeApiToken, verifyApiToken } from '../../src/http/tokens';
import { createTestDb, DB_KINDS, type TestDb } from '../helpers/db';

describe.each(DB_KINDS)('data layer on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
  });
  afterAll(async () => t?.drop());

  it('applies migrations idempotently', async () => {
    await migrateDb(t.db);
    const rows = await t.db.query<{ n: number }>(
      `select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name in ('inbound_messages','api_tokens','rate_limits')`,
    );
    expect(rows[0]?.n).toBe(3);
  });

  it('records an inbound message once per robot + msgId and stores its outcome', async () => {
    const caller = { key: 'alice', staffId: 'alice', nick: 'Alice', role: 'operator' as const };
    const row = { source: 'http', robotCode: 'r1', msgId: 'm-1', text: '/ping', caller, conversationId: 'cid' };
    const id = await recordInbound({ db: t.db }, row);
    expect(id).toBeGreaterThan(0);
    expect(await recordInbound({ db: t.db }, row)).toBeNull();
    expect(await recordInbound({ db: t.db }, { ...row, robotCode: 'r2' })).toBeGreaterThan(0);
    await finishInbound({ db: t.db }, id as number, { outcome: 'ok', command: 'ping', args: {}, jobId: 42 });
    const [saved] = await t.db.query<{ command: string; outcome: string; job_id: number; finished_at: Date }>(
      'select command, outcome, job_id, finished_at from inbound_messages where id = $1',
      [id],
    );
    expect(saved).toMatchObject({ command: 'ping', outcome: 'ok', job_id: 42 });
    expect(saved?.finished_at).toBeInstanceOf(Date);
  });

  it('issues, verifies and revokes API tokens, storing only a hash', async () => {
    const token = await createApiToken(t.db, 'ci', 'admin', 'test');
    expect(token).toMatch(/^cob_[A-Za-z0-9_-]{32}$/);
    expect(await verifyApiToken(t.db, token)).toEqual({ name: 'ci', role: 'admin' });
    expect(await verifyApiToken(t.db, `${token}x`)).toBeNull();
    const stored = await t.db.query<{ token_hash: string }>('select token_hash from api_tokens');
    expect(stored.every((r) => r.token_hash !== token && r.token_hash.length === 64)).toBe(true);
    await expect(createApiToken(t.db, 'ci', 'viewer', 'test')).rejects.toThrow();
    expect(await revokeApiToken(t.db, 'ci')).toBe(true);
    expect(await revokeApiToken(t.db, 'ci')).toBe(false);
    expect(await verifyApiToken(t.db, token)).toBeNull();
    // The name can be issued again once revoked.
    const again = await createApiToken(t.db, 'ci', 'viewer', 'test');
    expect(await verifyApiToken(t.db, again)).toEqual({ name: 'ci', role: 'viewer' });
    const list = await listApiTokens(t.db);
    expect(list.filter((x) => x.name === 'ci').map((x) => Boolean(x.revokedAt))).toEqual([true, false]);
  });

  it('counts requests per key per minute in the database', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await takeRateLimit(t.db, 'user:bob', 3));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]?.retryAfterSec).toBeGreaterThan(0);
    expect(results[3]?.retryAfterSec).toBeLessThanOrEqual(60);
    expect((await takeRateLimit(t.db, 'user:carol', 3)).allowed).toBe(true);
    // A new window starts over.
    await t.db.query(`update rate_limits set window_start = window_start - interval '1 minute' where key = 'user:bob'`);
    expect(await takeRateLimit(t.db, 'user:bob', 3)).toMatchObject({ allowed: true, count: 1 });
  });
});

// The intake's batched statements join a JSON list to inbound_messages. A generic plan cached by a
// pool connection while the table was small scans the whole table on every later call (hash join),
// for ever where nothing runs ANALYZE: this machine's server has autovacuum off. The pool plans
// every statement for the table as it is (src/db/postgres.ts), so a claim and a finish made after
// the table has grown read the index, not the table.
describe('intake statements on a grown table (postgres)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb('postgres', 1); // one connection: every statement below shares its plan cache
  });
  afterAll(async () => t?.drop());

  // Tuples read by sequential scans of inbound_messages, as the statistics have them (read over a
  // connection of its own: counters reach the shared statistics when a backend goes idle, so the
  // pool's connection is asked to flush first).
  const seqRead = async () => {
    await t.db.query('select pg_stat_force_next_flush()');
    await new Promise((r) => setTimeout(r, 50));
    const sql = postgres(t.url as string, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql.unsafe(`select seq_tup_read::int as n from pg_stat_user_tables where relname = 'inbound_messages'`);
      return Number(row?.n);
    } finally {
      await sql.end();
    }
  };

  it('claims and finishes by index after the table has grown, whatever plan was cached when it was empty', async () => {
    const caller = { key: 'p', staffId: 'p', nick: 'P', role: 'operator' as const };
    const row = (msgId: string) => ({ source: 'http', robotCode: 'r', msgId, text: '/ping', caller, message: undefined });
    // Past the five custom plans after which Postgres would settle on a generic one.
    for (let i = 0; i < 8; i++) {
      const id = await recordInbound({ db: t.db }, row(`early-${i}`));
      await finishInbound({ db: t.db }, id as number, { outcome: 'ok', command: 'ping' });
    }
    await t.db.query(
      `insert into inbound_messages (source, robot_code, msg_id, text, message)
       select 'http', 'r', 'bulk-' || g, '/ping', '{"text":"/ping"}'::jsonb from generate_series(1, 20000) g`,
    );
    const before = await seqRead();
    const id = await recordInbound({ db: t.db }, row('late'));
    expect(await recordInbound({ db: t.db }, row('late'))).toBeNull(); // the seen-before lookup too
    await finishInbound({ db: t.db }, id as number, { outcome: 'ok', command: 'ping' });
    const after = await seqRead();
    expect(after - before).toBeLessThan(1000);
  });
});
