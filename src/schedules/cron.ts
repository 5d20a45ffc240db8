import { Cron } from 'croner';
import nodeCron from 'node-cron';

// Fire times are computed with croner: its DST rules are documented and follow Vixie cron (a
// fixed-time job whose time falls in a spring-forward gap runs right after the gap; a time that
// occurs twice runs once; interval jobs run on both occurrences). node-cron only wakes us up.

/** The default zone of a cron schedule (the team works on Beijing time). */
export const DEFAULT_ZONE = 'Asia/Shanghai';

/** True when `zone` is an IANA time zone this runtime knows (e.g. Asia/Shanghai, Europe/Berlin). */
export function isValidZone(zone: string): boolean {
  if (!zone || /^[+-]?\d/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The fields of a cron expression, as node-cron names them. */
export const CRON_FIELDS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
export type CronField = (typeof CRON_FIELDS)[number];

/** Checks a cron expression (5 fields, or 6 with seconds first); returns the reason when it is not valid. */
export function checkCron(
  expr: string,
): { ok: true } | { ok: false; reason: string; fields?: number; field?: { name: CronField; value: string } } {
  const fields = expr.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) {
    return {
      ok: false,
      fields: fields.length,
      reason: `expected 5 fields (minute hour day month weekday) or 6 with seconds first, got ${fields.length}`,
    };
  }
  // Both libraries must accept it: node-cron wakes the scheduler, croner computes the fire times.
  const detailed = nodeCron.validateDetailed(expr.trim());
  if (!detailed.valid) {
    const first = detailed.errors[0];
    const name = CRON_FIELDS.find((f) => f === first?.field);
    return {
      ok: false,
      reason: detailed.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      // Which field and what was typed, so the reply can say it in the chat's language.
      field: name && first ? { name, value: String(first.value) } : undefined,
    };
  }
  try {
    new Cron(expr.trim(), { paused: true });
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true };
}

function cronOf(expr: string, zone: string): Cron {
  return new Cron(expr.trim(), { timezone: zone, paused: true });
}

/** The next `n` fire times strictly after `after`, in the schedule's zone. Pure. */
export function nextFires(expr: string, zone: string, after: Date, n: number): Date[] {
  return cronOf(expr, zone).nextRuns(n, after);
}

/**
 * Fire times in (from, to], oldest first, at most `cap` of them (the newest are kept). `total` is how
 * many there were in all (cheap to count for the cap; a long downtime of an every-second schedule
 * is not enumerated past it).
 */
export function firesBetween(expr: string, zone: string, from: Date, to: Date, cap = 1000): { fires: Date[]; total: number } {
  const cron = cronOf(expr, zone);
  const fires: Date[] = [];
  let total = 0;
  let cursor: Date | null = from;
  // Count at most 10k; past that the count is a lower bound (said as such where shown).
  while (cursor && total < 10_000) {
    const next: Date | null = cron.nextRun(cursor);
    if (!next || next.getTime() > to.getTime()) break;
    total++;
    fires.push(next);
    if (fires.length > cap) fires.shift();
    cursor = next;
  }
  return { fires, total };
}
