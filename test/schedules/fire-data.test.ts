import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/types';
import { fireKey, fireSchedule, recordMissed, runningKey } from '../../src/schedules/fire';
import { getSchedule, insertSchedule, schedulesVersion, updateSchedule } from '../../src/schedules/store';
import { createTestDb, DB_KINDS, type TestDb } from '../helpers/db';

// The firing statements on both databases the bot runs on (PGlite is the embedded default).
const noop = defineJob<unknown, null>({
  kind: 'test_noop',
  maxAttempts: 2,
  async run() {
    return null;
  },
});

describe.each(DB_KINDS)('schedule fires on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
  });
  afterAll(async () => t?.drop());

  it('one job per fire with the dedupe key, the overlap guard, missed fires counted, the change fingerprint the poll compares', async () => {
    const v0 = await schedulesVersion(t.db);
    const s = await insertSchedule(t.db, {
      name: `s-${kind}`,
      kind: 'test_noop',
      payload: { a: 1 },
      type: 'cron',
      cron: '* * * * *',
      timezone: 'UTC',
      misfireGraceSec: 60,
      overlap: 'skip',
      replyTo: { conversationId: 'cid-1', conversationType: 'group' },
      owner: 'test',
      nextFireAt: null,
    });
    if (!s) throw new Error('not created');
    expect(await schedulesVersion(t.db)).not.toBe(v0);
    const at = new Date('2026-11-25T01:00:00Z');
    const first = await fireSchedule(t.db, [noop], s, at, 'scheduled');
    expect(first.outcome).toBe('fired');
    expect((await fireSchedule(t.db, [noop], s, at, 'scheduled')).outcome).toBe('duplicate');
    const [job] = await t.db.query<Record<string, unknown>>('select * from jobs where id = $1', [first.jobId]);
    expect(job).toMatchObject({
      kind: 'test_noop',
      dedupe_key: fireKey(s.id, at),
      active_key: runningKey(s.id),
      schedule_id: s.id,
      max_attempts: 2,
      status: 'queued',
    });
    expect(job?.reply_to).toMatchObject({ conversationId: 'cid-1' });
    // While it is unfinished the next fire is skipped (default policy).
    expect((await fireSchedule(t.db, [noop], s, new Date(at.getTime() + 60_000), 'scheduled')).outcome).toBe('skipped');
    await t.db.query(`update jobs set status = 'succeeded', active_key = null, finished_at = now() where id = $1`, [first.jobId]);
    expect((await fireSchedule(t.db, [noop], s, new Date(at.getTime() + 120_000), 'scheduled')).outcome).toBe('fired');

    const missed = [new Date(at.getTime() - 120_000), new Date(at.getTime() - 60_000)];
    expect(await recordMissed(t.db, s, missed, 5)).toBe(2);
    expect(await recordMissed(t.db, s, missed)).toBe(0);
    const after = await getSchedule(t.db, s.id);
    expect(after?.missedCount).toBe(7);
    expect(after?.lastFireAt?.toISOString()).toBe(new Date(at.getTime() + 120_000).toISOString());
    const outcomes = await t.db.query<{ outcome: string }>('select outcome from schedule_fires where schedule_id = $1 order by fire_at', [
      s.id,
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['missed', 'missed', 'fired', 'skipped', 'fired']);

    const paused = await updateSchedule(t.db, s.id, { state: 'paused' });
    expect(paused?.state).toBe('paused');
  });
});
