/** The wall-clock fields of an instant in a time zone. */
export interface WallParts {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

// One formatter per zone: building an Intl.DateTimeFormat costs far more than using one.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** What a clock in `zone` shows at instant `ms` (IANA zone names; throws RangeError for an unknown one). */
export function wallParts(ms: number, zone: string): WallParts {
  const out: WallParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatterFor(zone).formatToParts(ms)) {
    if (p.type in out) out[p.type as keyof WallParts] = Number(p.value);
  }
  return out;
}

/** The wall-clock fields as a UTC instant (ms), seconds precision: what Excel and offsets are computed from. */
export function wallUtcMs(ms: number, zone: string): number {
  const w = wallParts(ms, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}
