import { wallUtcMs } from '../lib/zone-time';
/** What a result column holds, whichever database it came from. */
export type ColumnKind = 'int' | 'bigint' | 'decimal' | 'float' | 'bool' | 'date' | 'timestamp' | 'timestamptz' | 'json' | 'bytes' | 'text';

export interface Column {
  name: string;
  kind: ColumnKind;
}

/** A value as written to a cell: numbers stay numbers, dates are Dates (wall time in the task's zone, as UTC fields). */
export type CellValue = string | number | boolean | Date | null;

/** Number formats for typed cells in the .xlsx. */
export const NUM_FMT: Partial<Record<ColumnKind, string>> = {
  date: 'yyyy-mm-dd',
  timestamp: 'yyyy-mm-dd hh:mm:ss',
  timestamptz: 'yyyy-mm-dd hh:mm:ss',
};

const strip = (s: string) => {
  let t = s.trim().replace(/^\+/, '');
  const neg = t.startsWith('-');
  if (neg) t = t.slice(1);
  t = t.replace(/^0+(?=\d)/, '');
  if (t.includes('.')) t = t.replace(/0+$/, '').replace(/\.$/, '');
  if (t === '0' || t === '') return '0';
  return (neg ? '-' : '') + t;
};

/** A decimal or 64-bit integer as text: a number when a double keeps every digit, else the text itself. */
export function exactNumber(s: string): number | string {
  if (!/^[+-]?\d+(\.\d+)?$/.test(s)) return s;
  // Up to 15 significant digits always survive a double (DBL_DIG); only longer ones need the check.
  let sig = s.replace(/^[+-]?0*/, '');
  if (sig.includes('.')) sig = sig.replace(/\.?0+$/, '');
  if (sig.replace('.', '').replace(/^0+/, '').length <= 15) return Number(s);
  const n = Number(s);
  if (!Number.isFinite(n)) return s;
  return strip(String(n)) === strip(s) ? n : s;
}

/**
 * Turns instants into wall-clock time in one zone. Asking Intl costs ~0.1–0.3 ms a value, so each
 * 15-minute slot's offset is asked once (every zone's offsets and DST switches fall on such slots).
 */
export function createZoneClock(zone: string): (instantMs: number) => Date {
  const DAY = 86_400_000;
  const SLOT = 900_000;
  const offsetAt = (ms: number) => wallTimeSlow(ms, zone).getTime() - ms;
  const days = new Map<number, number | null>();
  const slots = new Map<number, number>();
  return (ms) => {
    // One offset for the whole UTC day when it is the same at both ends (no DST switch that day)…
    const day = Math.floor(ms / DAY);
    let d = days.get(day);
    if (d === undefined) {
      const a = offsetAt(day * DAY);
      d = a === offsetAt((day + 1) * DAY - SLOT) ? a : null;
      if (days.size > 50_000) days.clear();
      days.set(day, d);
    }
    if (d !== null) return new Date(ms + d);
    // …else per 15-minute slot.
    const slot = Math.floor(ms / SLOT);
    let off = slots.get(slot);
    if (off === undefined) {
      off = offsetAt(slot * SLOT);
      slots.set(slot, off);
    }
    return new Date(ms + off);
  };
}

/** The wall-clock fields of an instant in `zone`, as a Date whose UTC fields are those (what Excel shows). */
export function wallTime(instantMs: number, zone: string): Date {
  return wallTimeSlow(instantMs, zone);
}

function wallTimeSlow(instantMs: number, zone: string): Date {
  return new Date(wallUtcMs(instantMs, zone) + Math.max(0, instantMs % 1000));
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

function naiveToDate(s: string): Date | undefined {
  const d = DATE_RE.exec(s);
  if (d) return new Date(Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3])));
  const t = TS_RE.exec(s);
  if (!t) return undefined;
  const ms = t[7] ? Math.round(Number(`0${t[7]}`) * 1000) : 0;
  return new Date(Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3]), Number(t[4]), Number(t[5]), Number(t[6]), ms));
}

const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);

/**
 * The common shape, `YYYY-MM-DD HH:MM:SS[.f…]±HH[:MM]`, read by position (a timestamptz column is
 * parsed once per row: this is ~5× the regex path); undefined for anything else.
 */
function parseInstantFast(s: string): number | undefined {
  if (s.length < 22 || s.charCodeAt(4) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58) return undefined;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    let scale = 100;
    i++;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
      ms += digit(s, i) * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms);
  }
  const sign = s.charCodeAt(i);
  if ((sign !== 43 && sign !== 45) || (s.length !== i + 3 && !(s.length === i + 6 && s.charCodeAt(i + 3) === 58))) return undefined;
  const offMin = (two(s, i + 1) * 60 + (s.length === i + 6 ? two(s, i + 4) : 0)) * (sign === 45 ? -1 : 1);
  const t =
    Date.UTC(digit(s, 0) * 1000 + digit(s, 1) * 100 + two(s, 2), two(s, 5) - 1, two(s, 8), two(s, 11), two(s, 14), two(s, 17), ms) -
    offMin * 60_000;
  return Number.isNaN(t) ? undefined : t;
}

/** Parse a timestamptz as Postgres/MySQL print it (`2024-01-01 10:00:00.5+08`, `…+05:30`, `…Z`). */
export function parseInstant(s: string): number | undefined {
  const fast = parseInstantFast(s);
  if (fast !== undefined) return fast;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?(?::?\d{2})?)?$/.exec(s.trim());
  if (!m) return undefined;
  let off = m[3] ?? 'Z';
  if (off !== 'Z') {
    const sign = off[0];
    const digits = off.slice(1).replace(/:/g, '');
    off = `${sign}${digits.slice(0, 2)}:${(digits.slice(2, 4) || '00').padEnd(2, '0')}`;
  }
  const frac = /\.(\d+)/.exec(m[2] as string)?.[1];
  const base = (m[2] as string).replace(/\.\d+$/, '');
  const t = Date.parse(`${m[1]}T${base}${frac ? `.${frac.slice(0, 3).padEnd(3, '0')}` : ''}${off}`);
  return Number.isNaN(t) ? undefined : t;
}

/** Map one driver value to a cell value for a column of `kind`, dates shown in `zone`. */
export function toCell(v: unknown, kind: ColumnKind, zone: string | ((ms: number) => Date)): CellValue {
  const wall = typeof zone === 'string' ? (ms: number) => wallTime(ms, zone) : zone;
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'int':
    case 'float':
      return typeof v === 'number' ? v : exactNumber(String(v));
    case 'bigint':
    case 'decimal':
      return typeof v === 'number' ? v : typeof v === 'bigint' ? exactNumber(v.toString()) : exactNumber(String(v));
    case 'bool':
      return typeof v === 'boolean' ? v : v === 1 || v === '1' || v === 't' || v === 'true';
    case 'date':
    case 'timestamp': {
      if (v instanceof Date) return v;
      return naiveToDate(String(v)) ?? String(v);
    }
    case 'timestamptz': {
      const t = v instanceof Date ? v.getTime() : parseInstant(String(v));
      return t === undefined ? String(v) : wall(t);
    }
    case 'json':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'bytes':
      return Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : String(v);
    default:
      if (typeof v === 'string') return v;
      if (v instanceof Date) return wall(v.getTime());
      if (Buffer.isBuffer(v)) return v.toString('utf8');
      if (typeof v === 'object') return JSON.stringify(v);
      return String(v);
  }
}

/** The text of a cell for CSV and chat previews (dates as `YYYY-MM-DD[ HH:mm:ss]`). */
export function cellText(v: CellValue, kind: ColumnKind): string {
  if (v === null) return '';
  if (v instanceof Date) {
    const s = v.toISOString();
    return kind === 'date' ? s.slice(0, 10) : `${s.slice(0, 10)} ${s.slice(11, 19)}`;
  }
  return String(v);
}
