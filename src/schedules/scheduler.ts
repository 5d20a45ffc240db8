import nodeCron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import type { AnyJobDefinition } from '../jobs/types';
import { firesBetween } from './cron';
import { fireSchedule, recordMissed, startWaiting } from './fire';
import { nextFireOf } from './next-fire';
import { planDue } from './plan';
import { CHANNEL_SCHEDULES, getSchedule, listFiring, type Schedule, schedulesVersion } from './store';

/** Drives the active schedules of this instance; every instance runs one. */
export interface Scheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Re-read the schedules (NOTIFY does this in every instance; also the `reload` action). */
  reload(): Promise<void>;
  /** Deal with the fires of one schedule that are due now. */
  check(id: number, wokeFor?: Date): Promise<void>;
  /** Ids of the schedules armed here. */
  armed(): number[];
}

export interface SchedulerOptions {
  db: Database;
  log: Logger;
  definitions: readonly AnyJobDefinition[];
  /** Fallback poll: re-read changed schedules, start queued runs, catch wake-ups node-cron missed. */
  pollMs?: number;
  /** Rows ensured at start (the built-in clean-up). */
  ensure?: (db: Database) => Promise<void>;
  /** Fire records older than this many days are removed (hourly, a batch at a time). */
  retentionDays?: number;
}

interface Armed {
  s: Schedule;
  task?: ScheduledTask;
  timer?: NodeJS.Timeout;
}

const MAX_TIMEOUT = 2 ** 31 - 1;

/** Create the scheduler: node-cron wakes it at each fire; the database decides what runs, once. */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const { db, log, definitions } = opts;
  const pollMs = opts.pollMs ?? 10_000;
  const armed = new Map<number, Armed>();
  const busy = new Map<number, Promise<void>>();
  let version = '';
  let poller: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let stopped = false;
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  let prunedAt = 0;
  const cronLog = {
    info: (m: string) => log.debug(m),
    warn: (m: string) => log.debug(m),
    error: (m: string | Error) => log.warn({ err: String(m) }, 'node-cron'),
    debug: (m: string | Error) => log.trace(String(m)),
  };

  function disarm(id: number) {
    const a = armed.get(id);
    if (!a) return;
    void a.task?.destroy();
    if (a.timer) clearTimeout(a.timer);
    armed.delete(id);
  }

  function arm(s: Schedule) {
    const a: Armed = { s };
    if (s.type === 'cron' && s.cron) {
      a.task = nodeCron.schedule(s.cron, (ctx) => check(s.id, ctx.date), {
        timezone: s.timezone,
        name: `schedule-${s.id}`,
        logger: cronLog,
        suppressMissedWarning: true,
      });
    } else if (s.type === 'date' && s.runAt) {
      const delay = s.runAt.getTime() - Date.now();
      // Longer than a timer can wait: the poll re-arms it as the day comes closer.
      if (delay > 0 && delay < MAX_TIMEOUT) {
        a.timer = setTimeout(() => void check(s.id, s.runAt ?? undefined), delay);
        a.timer.unref();
      }
    }
    armed.set(s.id, a);
    log.info({ schedule: s.name, id: s.id, type: s.type, cron: s.cron, zone: s.timezone }, 'schedule armed');
  }

  async function doReload() {
    const rows = await listFiring(db);
    const seen = new Set<number>();
    for (const s of rows) {
      seen.add(s.id);
      const cur = armed.get(s.id);
      if (cur && cur.s.updatedAt.getTime() === s.updatedAt.getTime()) continue;
      disarm(s.id);
      arm(s);
    }
    for (const id of [...armed.keys()]) if (!seen.has(id)) disarm(id);
    version = await schedulesVersion(db);
    // Fires missed while this instance was down or the schedule was changed: catch up (or record).
    await Promise.all(rows.map((s) => check(s.id)));
  }

  function reload(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (reloading) {
      reloadAgain = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          reloadAgain = false;
          await doReload();
        } while (reloadAgain && !stopped);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  }

  async function doCheck(id: number, wokeFor?: Date) {
    const s = await getSchedule(db, id);
    if (s?.state !== 'active' || s.type === 'manual') return;
    // node-cron may wake a few milliseconds early: the fire it woke us for counts as due.
    const nowMs = Math.max(Date.now(), wokeFor?.getTime() ?? 0);
    const now = new Date(nowMs);
    let due: Date[] = [];
    let total = 0;
    if (s.type === 'cron' && s.cron) {
      const r = firesBetween(s.cron, s.timezone, s.checkedThrough, now);
      due = r.fires;
      total = r.total;
    } else if (s.type === 'date' && s.runAt && s.runAt > s.checkedThrough && s.runAt <= now) {
      due = [s.runAt];
      total = 1;
    }
    const plan = planDue(due, nowMs, s.misfireGraceSec);
    const missed = plan.filter((p) => p.action === 'missed').map((p) => p.at);
    if (missed.length > 0 || total > due.length) {
      const n = await recordMissed(db, s, missed, total - due.length);
      if (n > 0) log.warn({ schedule: s.name, missed: n + total - due.length }, 'schedule fires missed (older than the grace period)');
    }
    for (const p of plan) {
      if (p.action !== 'fire') continue;
      const r = await fireSchedule(db, definitions, s, p.at, p.reason);
      if (r.outcome === 'duplicate') log.debug({ schedule: s.name, at: p.at }, 'fire already taken by another instance');
      else log.info({ schedule: s.name, at: p.at, ...r, reason: p.reason }, 'schedule fired');
    }
    await db.query(`update schedules set checked_through = greatest(checked_through, $2), next_fire_at = $3 where id = $1`, [
      s.id,
      now,
      nextFireOf(s, now),
    ]);
  }

  function check(id: number, wokeFor?: Date): Promise<void> {
    // One check of a schedule at a time in this instance; other instances are kept apart by the database.
    const prev = busy.get(id) ?? Promise.resolve();
    const next = prev
      .then(() => (stopped ? undefined : doCheck(id, wokeFor)))
      .catch((err) => log.warn({ err, scheduleId: id }, 'schedule check failed'));
    busy.set(id, next);
    void next.finally(() => {
      if (busy.get(id) === next) busy.delete(id);
    });
    return next;
  }

  async function poll() {
    if ((await schedulesVersion(db)) !== version) await reload();
    else await Promise.all([...armed.values()].map((a) => check(a.s.id)));
    await startWaiting(db, definitions, (id) => armed.get(id)?.s);
    if (opts.retentionDays && Date.now() - prunedAt > 3_600_000) {
      prunedAt = Date.now();
      await db.query(
        `delete from schedule_fires where ctid = any(array(
           select ctid from schedule_fires where created_at < now() - make_interval(days => $1) limit 5000))`,
        [opts.retentionDays],
      );
    }
    // Date schedules too far ahead for one timer are re-armed as they come closer.
    for (const a of armed.values()) if (a.s.type === 'date' && !a.timer && a.s.runAt && a.s.runAt.getTime() > Date.now()) arm(a.s);
  }

  return {
    async start() {
      await opts.ensure?.(db);
      unlisten = await db.listen(CHANNEL_SCHEDULES, () => void reload().catch((err) => log.warn({ err }, 'schedule reload failed')));
      await reload();
      poller = setInterval(() => void poll().catch((err) => log.warn({ err }, 'schedule poll failed')), pollMs);
      poller.unref();
      log.info({ schedules: armed.size }, 'scheduler started');
    },
    async stop() {
      stopped = true;
      if (poller) clearInterval(poller);
      for (const id of [...armed.keys()]) disarm(id);
      await unlisten?.().catch(() => {});
      await reloading?.catch(() => {});
      await Promise.all([...busy.values()]);
    },
    reload,
    check,
    armed: () => [...armed.keys()],
  };
}
