/** Parameter types an export task may declare. */
export const PARAM_TYPES = ['string', 'int', 'number', 'date', 'datetime', 'bool'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  name: string;
  type: ParamType;
  /** Text as a user would type it; for dates also a relative word (`yesterday`, `month_start`, `today-7`). */
  default?: string;
  required?: boolean;
}

/** Relative date words, resolved in the task's time zone. */
export const RELATIVE_DATES = [
  'today',
  'yesterday',
  'tomorrow',
  'week_start',
  'last_week_start',
  'last_week_end',
  'month_start',
  'month_end',
  'last_month_start',
  'last_month_end',
  'year_start',
  'last_year_start',
  'last_year_end',
] as const;

/** Problems found in typed parameters: `{ name, expected, got }` each. */
export class ParamError extends Error {
  constructor(
    readonly param: string,
    readonly expected: string,
    readonly got: string,
    /** What was expected, for the chat catalog (`export.expect.<kind>`). */
    readonly kind: 'int' | 'number' | 'bool' | 'date' | 'datetime' | 'value' | 'unknown' = 'value',
  ) {
    super(`${param}: expected ${expected}, got "${got}"`);
    this.name = 'ParamError';
  }
}

/** The calendar date (y, m, d) at `nowMs` in `zone`. */
export function dateInZone(nowMs: number, zone: string): { y: number; m: number; d: number } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    nowMs,
  );
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return { y: get('year'), m: get('month'), d: get('day') };
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Resolve a relative date word (or `today±N`) to `YYYY-MM-DD` in `zone`; undefined when not one. */
export function resolveRelativeDate(word: string, nowMs: number, zone: string): string | undefined {
  const { y, m, d } = dateInZone(nowMs, zone);
  const day = Date.UTC(y, m - 1, d);
  const DAY = 86_400_000;
  const offset = /^today([+-]\d{1,4})$/.exec(word);
  if (offset) return iso(day + Number(offset[1]) * DAY);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  switch (word) {
    case 'today':
      return iso(day);
    case 'yesterday':
      return iso(day - DAY);
    case 'tomorrow':
      return iso(day + DAY);
    case 'week_start':
      return iso(day - weekday * DAY);
    case 'last_week_start':
      return iso(day - (weekday + 7) * DAY);
    case 'last_week_end':
      return iso(day - (weekday + 1) * DAY);
    case 'month_start':
      return iso(Date.UTC(y, m - 1, 1));
    case 'month_end':
      return iso(Date.UTC(y, m, 0));
    case 'last_month_start':
      return iso(Date.UTC(y, m - 2, 1));
    case 'last_month_end':
      return iso(Date.UTC(y, m - 1, 0));
    case 'year_start':
      return iso(Date.UTC(y, 0, 1));
    case 'last_year_start':
      return iso(Date.UTC(y - 1, 0, 1));
    case 'last_year_end':
      return iso(Date.UTC(y - 1, 11, 31));
    default:
      return undefined;
  }
}

function validDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return iso(t) === s;
}

/** Turn one typed value into what the driver binds (text for dates: the database parses them). */
export function coerceParam(spec: ParamSpec, raw: string, nowMs: number, zone: string): string | number | boolean {
  const v = raw.trim();
  switch (spec.type) {
    case 'int':
      if (!/^-?\d{1,15}$/.test(v)) throw new ParamError(spec.name, 'a whole number, e.g. 42', raw, 'int');
      return Number(v);
    case 'number':
      if (!/^-?\d+(\.\d+)?$/.test(v)) throw new ParamError(spec.name, 'a number, e.g. 12.5', raw, 'number');
      return Number(v);
    case 'bool':
      if (/^(true|1|yes|是)$/i.test(v)) return true;
      if (/^(false|0|no|否)$/i.test(v)) return false;
      throw new ParamError(spec.name, 'true or false', raw, 'bool');
    case 'date': {
      const rel = resolveRelativeDate(v, nowMs, zone);
      if (rel) return rel;
      if (validDate(v)) return v;
      throw new ParamError(spec.name, `a date YYYY-MM-DD or one of ${RELATIVE_DATES.join(', ')}, today-N`, raw, 'date');
    }
    case 'datetime': {
      const rel = resolveRelativeDate(v, nowMs, zone);
      if (rel) return `${rel} 00:00:00`;
      const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2})?)$/.exec(v);
      if (m && validDate(m[1] as string)) return `${m[1]} ${m[3] ? m[2] : `${m[2]}:00`}`;
      throw new ParamError(spec.name, 'a date-time "YYYY-MM-DD HH:mm:ss" or a relative date', raw, 'datetime');
    }
    default:
      return v;
  }
}

/**
 * The values of every declared parameter: given, else its default, else an error for a required
 * one (null for an optional one). Unknown names are errors (with the declared names).
 */
export function resolveParams(
  specs: ParamSpec[],
  given: Record<string, string>,
  nowMs: number,
  zone: string,
): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const k of Object.keys(given)) {
    if (!specs.some((s) => s.name === k)) {
      throw new ParamError(k, `one of the task's parameters (${specs.map((s) => s.name).join(', ') || 'none'})`, given[k] ?? '', 'unknown');
    }
  }
  for (const s of specs) {
    const raw = given[s.name] ?? s.default;
    if (raw === undefined || raw === '') {
      if (s.required) throw new ParamError(s.name, `a value (${s.type})`, '', 'value');
      out[s.name] = null;
    } else out[s.name] = coerceParam(s, raw, nowMs, zone);
  }
  return out;
}
