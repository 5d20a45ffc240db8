import type { Database } from '../db/client';
import { nextFires } from './cron';
import { notifySchedules } from './store';

/** Name of the built-in retention clean-up schedule. */
export const CLEANUP_SCHEDULE = 'retention-cleanup';
const CLEANUP_CRON = '0 * * * *';
const CLEANUP_ZONE = 'Asia/Shanghai';

/**
 * Make sure the built-in schedules exist: the hourly retention clean-up (finished jobs, their
 * events, the inbound log) as a row like any other, so it can be seen, paused and resumed. Its
 * payload follows JOB_RETENTION_DAYS; its state and timing stay as people set them.
 */
export async function ensureBuiltinSchedules(db: Database, retentionDays: number, now = new Date()): Promise<void> {
  const rows = await db.query<{ id: number }>(
    `insert into schedules (name, kind, payload, type, cron, timezone, owner, builtin, misfire_grace_sec, next_fire_at)
     values ($1, 'jobs_cleanup', $2::jsonb, 'cron', $3, $4, 'system', true, 1800, $5)
     on conflict (name) do update set payload = excluded.payload, updated_at = now()
      where schedules.builtin and schedules.payload is distinct from excluded.payload
     returning id`,
    [
      CLEANUP_SCHEDULE,
      JSON.stringify({ olderThanDays: retentionDays }),
      CLEANUP_CRON,
      CLEANUP_ZONE,
      nextFires(CLEANUP_CRON, CLEANUP_ZONE, now, 1)[0],
    ],
  );
  if (rows[0]) await notifySchedules(db, rows[0].id);
}
