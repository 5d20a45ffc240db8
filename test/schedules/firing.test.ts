import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/types';
import { fireSchedule, startWaiting } from '../../src/schedules/fire';
import { createScheduler, type Scheduler } from '../../src/schedules/scheduler';
import { getSchedule, insertSchedule, type NewSchedule } from '../../src/schedules/store';
import type { RunningServer } from '../../src/server';
import { createTestDb, type TestDb } from '../helpers/db';
import { testLog, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { testRunner } from '../helpers/jobs';

// Catch-up after a restart (grace period), missed fires, and the overlap policies, on real Postgres.
let t: TestDb;
let server: RunningServer | undefined;
let scheduler: Scheduler | undefined;

beforeAll(async () => {
  t = await createTestDb('postgres');
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await server?.stop();
  server = undefined;
  await t.db.query('delete from jobs');
  await t.db.query('delete from schedule_fires');
  await t.db.query('delete from schedules where not builtin');
});
afterAll(async () => t?.drop());

const base = (over: Partial<NewSchedule>): NewSchedule => ({
  name: 'x',
  kind: 'jobs_cleanup',
  payload: { olderThanDays: 30 },
  type: 'cron',
  timezone: 'UTC',
  misfireGraceSec: 600,
  overlap: 'skip',
  owner: 'test',
  nextFireAt: null,
  ...over,
});

/** A schedule as the database holds it after the bot was down since `downSince`. */
async function downSince(s: NewSchedule, since: Date) {
  const created = await insertSchedule(t.db, s);
  if (!created) throw new Error('not created');
  await t.db.query('update schedules set checked_through = $2 where id = $1', [created.id, since]);
  return created;
}

const firesOf = (id: number) =>
  t.db.query<{ fire_at: Date; outcome: string; reason: string; job_id: number | null }>(
    'select fire_at, outcome, reason, job_id from schedule_fires where schedule_id = $1 order by fire_at',
    [id],
  );
const jobsOf = async (id: number) => (await t.db.query<{ id: number }>('select id from jobs where schedule_id = $1', [id])).length;

describe('restart: missed fires and the grace period', () => {
  it('a fire missed within the grace period runs once on start; one outside it is recorded as missed', async () => {
    const now = Date.now();
    // A daily fire three to four minutes ago (UTC), the bot down for the last hour.
    const at = new Date(now - 3 * 60_000);
    const daily = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    const hourAgo = new Date(now - 3_600_000);
    const inGrace = await downSince(base({ name: 'in-grace', cron: daily, misfireGraceSec: 600 }), hourAgo);
    const outOfGrace = await downSince(base({ name: 'out-of-grace', cron: daily, misfireGraceSec: 60 }), hourAgo);
    // Every minute for the last hour: only the newest within 5 minutes runs; the others are missed.
    const everyMinute = await downSince(base({ name: 'every-minute', cron: '* * * * *', misfireGraceSec: 300 }), hourAgo);

    server = await testServer(t.db);
    await waitUntil(async () => ((await getSchedule(t.db, everyMinute.id))?.checkedThrough.getTime() ?? 0) >= now, 15_000, 'checked');
    await waitUntil(async () => (await firesOf(outOfGrace.id)).length > 0, 15_000, 'out-of-grace recorded');

    const a = await firesOf(inGrace.id);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ outcome: 'fired', reason: 'catch_up' });
    expect(await jobsOf(inGrace.id)).toBe(1);

    const b = await firesOf(outOfGrace.id);
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ outcome: 'missed' });
    expect(await jobsOf(outOfGrace.id)).toBe(0);
    expect((await getSchedule(t.db, outOfGrace.id))?.missedCount).toBe(1);

    const c = await firesOf(everyMinute.id);
    const ranC = c.filter((f) => f.outcome === 'fired');
    // One catch-up (unless a fire came due on time while starting, which then runs instead).
    expect(ranC).toHaveLength(c.at(-1)?.reason === 'scheduled' ? ranC.length : 1);
    expect(c.filter((f) => f.reason === 'catch_up')).toHaveLength(c.at(-1)?.reason === 'scheduled' ? 0 : 1);
    expect(c.filter((f) => f.outcome === 'missed').length).toBeGreaterThanOrEqual(58);
    expect(await jobsOf(everyMinute.id)).toBe(ranC.length);

    // A second restart finds nothing new to catch up.
    await server.stop();
    server = await testServer(t.db);
    await waitUntil(() => server?.scheduler.armed().includes(inGrace.id), 15_000, 'armed again');
    await server.scheduler.check(inGrace.id);
    expect(await firesOf(inGrace.id)).toHaveLength(1);
    expect(await jobsOf(inGrace.id)).toBe(1);
  }, 60_000);
});

const slow = defineJob<{ ms: number }, { ok: true }>({
  kind: 'test_slow_schedule',
  concurrency: 4,
  async run({ ms }, { signal }) {
    await sleep(ms, undefined, { signal });
    return { ok: true };
  },
});

describe('overlap', () => {
  it('skip (default): a run that outlasts its interval does not stack runs', async () => {
    const runner = testRunner(t.db, [slow], { pollIntervalMs: 100 });
    await runner.start();
    try {
      scheduler = createScheduler({ db: t.db, log: testLog, definitions: [slow], pollMs: 500 });
      await scheduler.start();
      const s = await insertSchedule(t.db, base({ name: 'slow', kind: 'test_slow_schedule', payload: { ms: 2500 }, cron: '* * * * * *' }));
      if (!s) throw new Error('not created');
      await waitUntil(async () => (await firesOf(s.id)).length >= 6, 20_000, 'six fires');
      await scheduler.stop();
      scheduler = undefined;
      const jobs = await t.db.query<{ started_at: Date | null; finished_at: Date | null; created_at: Date }>(
        'select started_at, finished_at, created_at from jobs where schedule_id = $1 order by id',
        [s.id],
      );
      const fires = await firesOf(s.id);
      expect(fires.filter((f) => f.outcome === 'skipped').length).toBeGreaterThanOrEqual(3);
      expect(jobs.length).toBe(fires.filter((f) => f.outcome === 'fired').length);
      // No job was created while the previous one was unfinished.
      for (let i = 1; i < jobs.length; i++) {
        const prevEnd = jobs[i - 1]?.finished_at;
        expect(prevEnd).not.toBeNull();
        expect(new Date(jobs[i]?.created_at as Date).getTime()).toBeGreaterThanOrEqual(new Date(prevEnd as Date).getTime());
      }
    } finally {
      await runner.stop(5000);
    }
  }, 40_000);

  it('queue: one fire waits behind the unfinished run and starts when it ends; older waiting fires give way', async () => {
    const s = await insertSchedule(
      t.db,
      base({ name: 'queued', kind: 'test_slow_schedule', payload: { ms: 10 }, overlap: 'queue', cron: '0 0 1 1 *' }),
    );
    if (!s) throw new Error('not created');
    const first = await fireSchedule(t.db, [slow], s, new Date('2026-01-01T00:00:00Z'), 'scheduled');
    expect(first.outcome).toBe('fired');
    expect((await fireSchedule(t.db, [slow], s, new Date('2026-01-01T00:00:01Z'), 'scheduled')).outcome).toBe('pending');
    expect((await fireSchedule(t.db, [slow], s, new Date('2026-01-01T00:00:02Z'), 'scheduled')).outcome).toBe('pending');
    // The same fire from another instance: nothing new.
    expect((await fireSchedule(t.db, [slow], s, new Date('2026-01-01T00:00:02Z'), 'scheduled')).outcome).toBe('duplicate');
    expect(await startWaiting(t.db, [slow], () => s)).toBe(0);
    expect((await firesOf(s.id)).map((f) => f.outcome)).toEqual(['fired', 'skipped', 'pending']);
    // The first run ends: the waiting fire starts.
    await t.db.query(`update jobs set status = 'succeeded', active_key = null, finished_at = now() where id = $1`, [first.jobId]);
    expect(await startWaiting(t.db, [slow], () => s)).toBe(1);
    expect((await firesOf(s.id)).map((f) => f.outcome)).toEqual(['fired', 'skipped', 'fired']);
    expect(await jobsOf(s.id)).toBe(2);
  });
});

describe('retention', () => {
  it('fire records older than the retention period are removed by the scheduler', async () => {
    const s = await insertSchedule(t.db, base({ name: 'old-fires', cron: '0 0 1 1 *' }));
    if (!s) throw new Error('not created');
    await t.db.query(
      `insert into schedule_fires (schedule_id, fire_at, outcome, created_at)
       values ($1, now() - interval '40 days', 'fired', now() - interval '40 days'), ($1, now() - interval '1 day', 'fired', now() - interval '1 day')`,
      [s.id],
    );
    scheduler = createScheduler({ db: t.db, log: testLog, definitions: [slow], pollMs: 100, retentionDays: 30 });
    await scheduler.start();
    await waitUntil(async () => (await firesOf(s.id)).length === 1, 10_000, 'old fire removed');
    expect((await firesOf(s.id))[0]?.fire_at.getTime()).toBeGreaterThan(Date.now() - 2 * 86_400_000);
  });
});
