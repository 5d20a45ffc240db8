import type { ScheduleType } from '../db/schema';
import { UserError } from '../errors';
import { wallUtcMs } from '../lib/zone-time';
import { checkCron, isValidZone, nextFires } from './cron';

/** Offset of `zone` from UTC at instant `ms`, in ms (Beijing: +8 h). Pure. */
function zoneOffsetMs(zone: string, ms: number): number {
  return wallUtcMs(ms, zone) - Math.floor(ms / 1000) * 1000;
}

/**
 * A wall-clock time typed in chat ("2026-11-26 09:00", "2026-11-26T09:00:30") read in `zone`, or an
 * ISO time with an offset ("2026-11-26T01:00:00Z"). Null when it is neither. Pure.
 */
export function parseDateInZone(text: string, zone: string): Date | null {
  const s = text.trim();
  if (/[zZ]$|[+-]\d{2}:?\d{2}$/.test(s) && /\d{4}-\d{2}-\d{2}T/.test(s)) {
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  const wall = Date.UTC(y as number, (mo as number) - 1, d, h, mi, se);
  const check = new Date(wall);
  if (check.getUTCMonth() !== (mo as number) - 1 || check.getUTCDate() !== d || (h as number) > 23) return null;
  // Two passes settle the offset even next to a DST change.
  let guess = wall - zoneOffsetMs(zone, wall);
  guess = wall - zoneOffsetMs(zone, guess);
  return new Date(guess);
}

/** A grace period: seconds, or with a unit (90s, 30m, 2h). Null when unreadable. Pure. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isInteger(text) && text >= 0 ? text : null;
  const m = /^(\d+)\s*(s|sec|秒|m|min|分钟?|h|小时)?$/i.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  if (unit.startsWith('h') || unit === '小时') return n * 3600;
  if (unit.startsWith('m') || unit.startsWith('分')) return n * 60;
  return n;
}

/** The checked timing of a schedule. */
export interface Timing {
  type: ScheduleType;
  cron: string | null;
  runAt: Date | null;
  timezone: string;
}

/**
 * Check a schedule's timing as typed: the type, its cron expression or time, and the zone.
 * Throws a UserError naming the field and what was expected.
 */
export function checkTiming(input: { type: string; when?: string; zone: string }, now: Date): Timing {
  const { type, when, zone } = input;
  if (!isValidZone(zone)) throw new UserError('bad_args', 'schedule.badZone', { zone }, 'zone');
  if (type === 'manual') return { type, cron: null, runAt: null, timezone: zone };
  if (type === 'cron') {
    if (!when) throw new UserError('bad_args', 'schedule.needCron', {}, 'when');
    const c = checkCron(when);
    if (!c.ok && c.fields !== undefined) throw new UserError('bad_args', 'schedule.badCronFields', { expr: when, n: c.fields }, 'when');
    if (!c.ok && c.field) {
      throw new UserError('bad_args', `schedule.badCronField.${c.field.name}`, { expr: when, value: c.field.value }, 'when');
    }
    if (!c.ok) throw new UserError('bad_args', 'schedule.badCron', { expr: when, reason: c.reason }, 'when');
    if (nextFires(when, zone, now, 1).length === 0) throw new UserError('bad_args', 'schedule.neverFires', { expr: when }, 'when');
    return { type, cron: when.trim(), runAt: null, timezone: zone };
  }
  if (type === 'date') {
    const at = when ? parseDateInZone(when, zone) : null;
    if (!at) throw new UserError('bad_args', 'schedule.badDate', { value: when ?? '' }, 'when');
    if (at.getTime() <= now.getTime()) throw new UserError('bad_args', 'schedule.dateInPast', { value: when ?? '' }, 'when');
    return { type, cron: null, runAt: at, timezone: zone };
  }
  throw new UserError('bad_args', 'schedule.badType', { type }, 'type');
}
