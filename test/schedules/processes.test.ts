import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSchedule, updateSchedule } from '../../src/schedules/store';
import { freePort, startMain } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { waitUntil } from '../helpers/fake-dingtalk';

// Two real app processes (src/main.ts, what `npm start` runs) on one real Postgres database,
// an every-second schedule for ten seconds: one job per fire, counted from the jobs table.
let t: TestDb;
const servers: Awaited<ReturnType<typeof startMain>>[] = [];

beforeAll(async () => {
  t = await createTestDb('postgres');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')));
  await t?.drop();
});

async function instance() {
  const port = String(await freePort());
  const cwd = mkdtempSync(path.join(tmpdir(), 'chatops-sched-'));
  const s = await startMain(
    { PORT: port, HOST: '127.0.0.1', DATABASE_URL: t.url as string, DINGTALK_STREAM: 'off', LOG_LEVEL: 'info', DATA_DIR: cwd },
    cwd,
  );
  servers.push(s);
  await s.waitForHealth(`http://127.0.0.1:${port}`);
  return s;
}

describe('schedules across instances', () => {
  it('an every-second schedule in two processes for 10 s makes exactly one job per fire', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const s = await insertSchedule(t.db, {
      name: 'every-second',
      kind: 'jobs_cleanup',
      payload: { olderThanDays: 30 },
      type: 'cron',
      cron: '* * * * * *',
      timezone: 'UTC',
      misfireGraceSec: 60,
      overlap: 'skip',
      owner: 'test',
      nextFireAt: null,
    });
    if (!s) throw new Error('schedule not created');
    // Both processes armed it (NOTIFY reload), so both compete for every fire.
    await waitUntil(
      () => a.output.includes('"schedule":"every-second"') && b.output.includes('"schedule":"every-second"'),
      15_000,
      'armed twice',
    );
    const firstFire = await waitUntil(
      async () => (await t.db.query<{ at: Date }>('select min(fire_at) as at from schedule_fires where schedule_id = $1', [s.id]))[0]?.at,
      15_000,
      'first fire',
    );
    // Ten seconds of fires after the first one.
    await waitUntil(
      async () =>
        Number(
          (
            await t.db.query<{ n: number }>('select count(*)::int as n from schedule_fires where schedule_id = $1 and fire_at >= $2', [
              s.id,
              new Date(new Date(firstFire).getTime() + 10_000),
            ])
          )[0]?.n,
        ) > 0,
      30_000,
      'ten seconds of fires',
    );
    await updateSchedule(t.db, s.id, { state: 'paused' });
    const end = new Date(new Date(firstFire).getTime() + 10_000);
    // A fire is recorded, then its job inserted: let the last ones settle.
    await waitUntil(
      async () =>
        (await t.db.query(`select 1 from schedule_fires where schedule_id = $1 and fire_at <= $2 and outcome = 'pending'`, [s.id, end]))
          .length === 0,
      10_000,
      'fires settled',
    );
    const fires = await t.db.query<{ fire_at: Date; outcome: string; job_id: number | null }>(
      'select fire_at, outcome, job_id from schedule_fires where schedule_id = $1 and fire_at <= $2 order by fire_at',
      [s.id, end],
    );
    const jobs = await t.db.query<{ id: number; dedupe_key: string }>(
      `select id, dedupe_key from jobs where schedule_id = $1 and dedupe_key <= $2 order by id`,
      [s.id, `schedule:${s.id}:${end.toISOString()}`],
    );
    // Every second from the first fire to ten seconds later has exactly one fire record …
    expect(fires.map((f) => new Date(f.fire_at).getTime() - new Date(firstFire).getTime())).toEqual(
      Array.from({ length: 11 }, (_, i) => i * 1000),
    );
    // … each fire that ran made exactly one job, keyed by its fire time, and there is no other job.
    const ran = fires.filter((f) => f.outcome === 'fired');
    expect(jobs.length).toBe(ran.length);
    expect(new Set(jobs.map((j) => j.dedupe_key)).size).toBe(jobs.length);
    expect(jobs.map((j) => j.dedupe_key).sort()).toEqual(ran.map((f) => `schedule:${s.id}:${new Date(f.fire_at).toISOString()}`).sort());
    expect(ran.map((f) => Number(f.job_id)).sort()).toEqual(jobs.map((j) => Number(j.id)).sort());
    // The rest were skipped only because the previous run was still going (overlap policy).
    expect(fires.filter((f) => f.outcome !== 'fired' && f.outcome !== 'skipped')).toEqual([]);
    expect(ran.length).toBeGreaterThanOrEqual(6);
    const firedBy = (o: string) =>
      o.split('\n').filter((l) => l.includes('"schedule":"every-second"') && l.includes('schedule fired')).length;
    console.log(
      `fires=${fires.length} ran=${ran.length} skipped=${fires.length - ran.length} firedByA=${firedBy(a.output)} firedByB=${firedBy(b.output)}`,
    );
    expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
  }, 90_000);
});
