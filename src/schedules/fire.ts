import type { Database } from '../db/client';
import type { AnyJobDefinition } from '../jobs/types';
import { payloadFor } from './payloads';
import type { Schedule } from './store';

/** What became of one fire. `duplicate`: another instance recorded it first. */
export type FireOutcome = 'fired' | 'skipped' | 'pending' | 'duplicate' | 'no_handler';

/** The job's dedupe key for a fire: the same in every instance, so a fire makes one job. */
export const fireKey = (scheduleId: number, at: Date) => `schedule:${scheduleId}:${at.toISOString()}`;
/** Held (as the job's active key) by a schedule's unfinished run: the overlap guard. */
export const runningKey = (scheduleId: number) => `schedule:${scheduleId}`;

/**
 * Record a fire of `s` at `at` and start its job. The fire row's primary key (schedule, time) makes
 * this happen once however many instances try; the job's active key `schedule:<id>` keeps a second
 * run from starting while one is unfinished (skipped, or left pending under the `queue` policy).
 */
export async function fireSchedule(
  db: Database,
  definitions: readonly AnyJobDefinition[],
  s: Schedule,
  at: Date,
  reason: 'scheduled' | 'catch_up' | 'manual',
  requestedBy = `schedule:${s.name}`,
): Promise<{ outcome: FireOutcome; jobId?: number }> {
  const won = await db.query<{ n: number }>(
    `insert into schedule_fires (schedule_id, fire_at, outcome, reason) values ($1, $2, 'pending', $3)
     on conflict do nothing returning 1 as n`,
    [s.id, at, reason],
  );
  if (won.length === 0) return { outcome: 'duplicate' };
  await db.query(
    `update schedules set last_fire_at = greatest(last_fire_at, $2), checked_through = greatest(checked_through, $2) where id = $1`,
    [s.id, at],
  );
  const r = await startPending(db, definitions, s, at, requestedBy);
  if (r.outcome !== 'pending') return r;
  if (s.overlap === 'skip') {
    await setOutcome(db, s.id, at, 'skipped');
    return { outcome: 'skipped' };
  }
  // Queue one: this fire waits behind the running one; any older waiting fire gives way to it.
  await db.query(`update schedule_fires set outcome = 'skipped' where schedule_id = $1 and outcome = 'pending' and fire_at < $2`, [
    s.id,
    at,
  ]);
  return { outcome: 'pending' };
}

async function setOutcome(db: Database, id: number, at: Date, outcome: string) {
  await db.query(`update schedule_fires set outcome = $3 where schedule_id = $1 and fire_at = $2`, [id, at, outcome]);
}

/**
 * Start the job of a pending fire unless the schedule's previous run is still unfinished (then
 * the fire stays pending). Safe to call from every instance at once (the fire row is locked).
 */
export async function startPending(
  db: Database,
  definitions: readonly AnyJobDefinition[],
  s: Schedule,
  at: Date,
  requestedBy = `schedule:${s.name}`,
): Promise<{ outcome: FireOutcome; jobId?: number }> {
  const def = definitions.find((d) => d.kind === s.kind);
  if (!def) {
    await setOutcome(db, s.id, at, 'no_handler');
    return { outcome: 'no_handler' };
  }
  const payload = await payloadFor(db, s, at);
  const [r] = await db.query<{ locked: number; job_id: number | null }>(
    `with p as (
       select schedule_id, fire_at from schedule_fires
        where schedule_id = $1 and fire_at = $2 and outcome = 'pending'
        for update skip locked),
     j as (
       insert into jobs (kind, payload, max_attempts, soft_timeout_ms, hard_timeout_ms, dedupe_key, active_key, requested_by, reply_to, schedule_id)
       select $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11::jsonb, $1 from p
       on conflict (active_key) where active_key is not null do nothing
       returning id),
     u as (
       update schedule_fires f set outcome = 'fired', job_id = (select id from j)
         from p where f.schedule_id = p.schedule_id and f.fire_at = p.fire_at and exists (select 1 from j)
       returning 1)
     select (select count(*) from p)::int as locked, (select id from j) as job_id, (select count(*) from u)::int as updated`,
    [
      s.id,
      at,
      s.kind,
      JSON.stringify(payload ?? {}),
      def.maxAttempts ?? 3,
      def.softTimeoutMs ?? null,
      def.hardTimeoutMs ?? null,
      fireKey(s.id, at),
      runningKey(s.id),
      requestedBy,
      s.replyTo ? JSON.stringify(s.replyTo) : null,
    ],
  );
  if (r?.job_id) return { outcome: 'fired', jobId: Number(r.job_id) };
  if (!r?.locked) return { outcome: 'duplicate' };
  return { outcome: 'pending' };
}

/** Start the waiting fires (queue policy) whose previous run has finished. Any instance may run this. */
export async function startWaiting(db: Database, definitions: readonly AnyJobDefinition[], byId: (id: number) => Schedule | undefined) {
  const rows = await db.query<{ schedule_id: number; fire_at: Date }>(
    `select f.schedule_id, f.fire_at from schedule_fires f
       join schedules s on s.id = f.schedule_id and s.overlap = 'queue'
      where f.outcome = 'pending'
        and not exists (select 1 from jobs j where j.active_key = 'schedule:' || f.schedule_id)
      order by f.fire_at limit 100`,
  );
  let started = 0;
  for (const r of rows) {
    const s = byId(Number(r.schedule_id));
    if (!s) continue;
    const at = r.fire_at instanceof Date ? r.fire_at : new Date(String(r.fire_at));
    if ((await startPending(db, definitions, s, at)).outcome === 'fired') started++;
  }
  return started;
}

/** Record fires that came too late to run (outside the grace period) as missed. */
export async function recordMissed(db: Database, s: Schedule, fires: Date[], extra = 0): Promise<number> {
  if (fires.length === 0 && extra === 0) return 0;
  const [r] = await db.query<{ n: number }>(
    `with ins as (
       insert into schedule_fires (schedule_id, fire_at, outcome, reason)
       select $1, unnest($2::timestamptz[]), 'missed', 'scheduled'
       on conflict do nothing returning 1),
     u as (update schedules set missed_count = missed_count + (select count(*) from ins)::int + $3,
                  checked_through = greatest(checked_through, $4) where id = $1 returning 1)
     select (select count(*) from ins)::int as n`,
    [s.id, `{${fires.map((f) => `"${f.toISOString()}"`).join(',')}}`, extra, fires.at(-1) ?? s.checkedThrough],
  );
  return Number(r?.n ?? 0);
}
