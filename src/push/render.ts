import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import type { Locale, MessageKey } from '../i18n';
import { type Generator, getPath, type Preset } from './preset-schema';

/** One order line: `A001*2` is sku A001, quantity 2. */
export interface ItemSpec {
  sku: string;
  quantity: number;
}

/** Everything needed to render a push's messages again, identically: kept in the job payload. */
export interface PushSpec {
  type: string;
  queue: string;
  count: number;
  /** JSON path -> value, already typed like the preset's default at that path. */
  overrides: Record<string, string | number | boolean>;
  items: ItemSpec[];
}

/** Per-message inputs of rendering. */
export interface RenderContext {
  /** 0-based message index. */
  index: number;
  /** First number of the range reserved for this push (see order-numbers.ts). */
  seqStart: number;
  /** yyyyMMdd of the push (Asia/Shanghai), part of every order number. */
  date: string;
  nowMs: number;
  /** Seeds the `digits` generators so a re-rendered message is identical. */
  jobKey: string;
}

const SHANGHAI_OFFSET_MS = 8 * 3_600_000; // China has no daylight saving time
const SKU = /^[\w.\-/]{1,64}$/;

/** Display name of a preset in a locale. */
export function presetName(p: Preset, locale: Locale): string {
  return locale === 'en' ? p.names.en : p.names.zh;
}

/** Label of a JSON path for messages ("店铺ID (storeId)"). */
export function fieldLabel(p: Preset, path: string, locale: Locale): string {
  const l = p.labels[path];
  return l ? `${locale === 'en' ? l.en : l.zh} (${path})` : path;
}

/** yyyyMMdd in Asia/Shanghai. */
export function shanghaiDate(ms: number): string {
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Format an instant as the order system expects (Asia/Shanghai wall clock). */
export function formatTime(ms: number, format: Extract<Generator, { type: 'datetime' }>['format']): string | number {
  if (format === 'epochMillis') return ms;
  const iso = new Date(ms + SHANGHAI_OFFSET_MS).toISOString();
  if (format === 'yyyy-MM-dd HH:mm:ss') return iso.slice(0, 19).replace('T', ' ');
  if (format === 'yyyy-MM-dd') return iso.slice(0, 10);
  if (format === 'yyyyMMddHHmmss') return iso.slice(0, 19).replace(/\D/g, '');
  return `${iso.slice(0, 19)}+08:00`;
}

/** Parse `A001*2,B002` (quantity defaults to 1). Returns null when the text is not a list of items. */
export function parseItems(text: string): ItemSpec[] | null {
  const parts = text.split(/[,，;；\s]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const items: ItemSpec[] = [];
  for (const part of parts) {
    const m = /^(.+?)(?:[*×xX](\d+))?$/.exec(part);
    const sku = m?.[1] ?? '';
    const quantity = m?.[2] === undefined ? 1 : Number(m[2]);
    if (!SKU.test(sku) || !Number.isInteger(quantity) || quantity < 1 || quantity > 100_000) return null;
    items.push({ sku, quantity });
  }
  return items;
}

/** How many numbers one message takes from the counter: one per sequence generator. */
export function numbersPerMessage(p: Preset): number {
  return Math.max(1, Object.values(p.generators).filter((g) => g.type === 'sequence').length);
}

/** The JSON path a chat key names: a short name (`store`), or a path to a plain value in the body. */
export function resolveField(p: Preset, key: string): string | undefined {
  const short = p.fields[key] ?? Object.entries(p.fields).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  if (short) return short;
  if (key.startsWith(`${p.items.path}.`) || key === p.items.path) return undefined;
  const v = getPath(p.body, key);
  return v === undefined || (v !== null && typeof v === 'object') ? undefined : key;
}

/** Names a user may type for a preset's fields, for "valid names" replies. */
export function validFieldNames(p: Preset): string[] {
  return Object.keys(p.fields);
}

/** Turn a typed value into the type of the preset's default at `path`. */
function coerce(p: Preset, path: string, raw: unknown, locale: Locale): string | number | boolean {
  const dflt = getPath(p.body, path);
  const label = fieldLabel(p, path, locale);
  if (typeof dflt === 'number') {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
    if (String(raw).trim() === '' || !Number.isFinite(n)) {
      throw new UserError('bad_args', 'push.badNumber', { field: label, value: String(raw), example: String(dflt) }, path);
    }
    return n;
  }
  if (typeof dflt === 'boolean') {
    const s = String(raw).trim().toLowerCase();
    if (raw === true || s === 'true' || s === '1' || s === '是') return true;
    if (raw === false || s === 'false' || s === '0' || s === '否') return false;
    throw new UserError('bad_args', 'push.badBoolean', { field: label, value: String(raw) }, path);
  }
  if (raw !== null && typeof raw === 'object') {
    throw new UserError('bad_args', 'push.badText', { field: label }, path);
  }
  return String(raw);
}

/**
 * Validate a push request against its preset and type every value. Throws a UserError naming the
 * field, what was expected and an example; renders message 0 to check the preset's rules.
 */
export function buildSpec(
  p: Preset,
  input: { overrides: Record<string, unknown>; items?: unknown; count: number; queue?: string },
  locale: Locale,
  nowMs: number,
): PushSpec {
  const overrides: PushSpec['overrides'] = {};
  for (const [key, raw] of Object.entries(input.overrides)) {
    if (raw === undefined) continue;
    const path = resolveField(p, key);
    if (!path) {
      throw new UserError(
        'bad_args',
        'push.unknownField',
        { field: key, type: presetName(p, locale), valid: validFieldNames(p).join(', ') },
        key,
      );
    }
    overrides[path] = coerce(p, path, raw, locale);
  }
  let items: ItemSpec[] | null = null;
  if (Array.isArray(input.items)) {
    items = input.items.every((i) => i && typeof i === 'object' && SKU.test(String((i as ItemSpec).sku ?? '')))
      ? input.items.map((i) => ({ sku: String((i as ItemSpec).sku), quantity: Number((i as ItemSpec).quantity ?? 1) }))
      : null;
    if (items?.some((i) => !Number.isInteger(i.quantity) || i.quantity < 1)) items = null;
    if (!items) throw new UserError('bad_args', 'push.badSku', { value: JSON.stringify(input.items).slice(0, 80) }, 'sku');
  } else if (input.items !== undefined && input.items !== null && String(input.items).trim() !== '') {
    items = parseItems(String(input.items));
    if (!items) throw new UserError('bad_args', 'push.badSku', { value: String(input.items) }, 'sku');
  }
  if (!items || items.length === 0) throw new UserError('bad_args', 'push.missingSku', { type: p.type }, 'sku');
  const spec: PushSpec = { type: p.type, queue: input.queue ?? p.queue, count: input.count, overrides, items };
  const sample = renderMessage(p, spec, { index: 0, seqStart: 1, date: shanghaiDate(nowMs), nowMs, jobKey: 'check' });
  const problem = checkRules(p, sample.body)[0];
  if (problem) {
    const label = fieldLabel(p, problem.path, locale);
    const short = Object.entries(p.fields).find(([, v]) => v === problem.path)?.[0] ?? problem.path;
    throw new UserError(
      'bad_args',
      `push.rule.${problem.check}` as MessageKey,
      { field: label, short, value: String(problem.value ?? '') },
      short,
    );
  }
  return spec;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[keys[keys.length - 1] as string] = value;
}

function digitsFor(seed: string, length: number): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    for (const byte of createHash('sha1').update(`${seed}:${round}`).digest()) {
      if (out.length === length) break;
      out += String(byte % 10);
    }
  }
  return out;
}

function substitute(value: unknown, vars: Record<string, string | number>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole && (whole[1] as string) in vars) return vars[whole[1] as string];
    return value.replace(/\{\{(\w+)\}\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, vars);
    return out;
  }
  return value;
}

/** The order lines of a message: the preset's item template once per SKU, `{{itemIndex}}` filled. */
function buildItems(p: Preset, spec: PushSpec, vars: Record<string, string | number>): unknown[] {
  const template = (getPath(p.body, p.items.path) as unknown[])[0] as Record<string, unknown>;
  return spec.items.map((item, j) => {
    const line = structuredClone(template);
    setPath(line, p.items.sku, item.sku);
    setPath(line, p.items.quantity, item.quantity);
    for (const path of p.items.copySku) setPath(line, path, item.sku);
    return substitute(line, { ...vars, itemIndex: j + 1 });
  });
}

/**
 * Render message `ctx.index` of a push. Pure and deterministic: the same spec and context give the
 * same message (order numbers come from the reserved range; `digits` are seeded), so a resumed push
 * republishes exactly what it published before.
 */
export function renderMessage(p: Preset, spec: PushSpec, ctx: RenderContext): { body: Record<string, unknown>; orderNo: string } {
  const vars: Record<string, string | number> = { index: ctx.index + 1, count: spec.count };
  const perMessage = numbersPerMessage(p);
  let seq = 0;
  for (const [name, g] of Object.entries(p.generators)) {
    if (g.type === 'sequence') {
      const n = ctx.seqStart + ctx.index * perMessage + seq++;
      vars[name] = `${g.prefix}${ctx.date}${String(n).padStart(g.digits, '0')}`;
    } else if (g.type === 'datetime') {
      vars[name] = formatTime(ctx.nowMs + g.offsetMinutes * 60_000, g.format);
    } else {
      vars[name] = g.prefix + digitsFor(`${ctx.jobKey}:${ctx.index}:${name}`, g.length);
    }
  }
  const body = structuredClone(p.body) as Record<string, unknown>;
  setPath(body, p.items.path, buildItems(p, spec, vars));
  for (const [path, value] of Object.entries(spec.overrides)) setPath(body, path, value);
  const rendered = substitute(body, vars) as Record<string, unknown>;
  return { body: rendered, orderNo: String(getPath(rendered, p.orderNoPath) ?? '') };
}

/**
 * The fast path of renderMessage for publishing: the spec is applied once to a JSON skeleton, and
 * each message is the skeleton with its generated values spliced in — no cloning or object walk.
 * Produces the same JSON as JSON.stringify(renderMessage(...).body) (a test holds them together).
 */
export function compileRenderer(p: Preset, spec: PushSpec): (ctx: RenderContext) => string {
  const skeleton = structuredClone(p.body) as Record<string, unknown>;
  setPath(skeleton, p.items.path, buildItems(p, spec, {}));
  for (const [path, value] of Object.entries(spec.overrides)) setPath(skeleton, path, value);
  const text = JSON.stringify(substitute(skeleton, { count: spec.count }));
  // Split at placeholders: "{{x}}" as a whole JSON string takes the value's own JSON (a number
  // stays a number); {{x}} inside a string takes the value's escaped text.
  const parts: (string | { name: string; whole: boolean })[] = [];
  let last = 0;
  for (const m of text.matchAll(/"\{\{(\w+)\}\}"|\{\{(\w+)\}\}/g)) {
    const name = (m[1] ?? m[2]) as string;
    if (name !== 'index' && !(name in p.generators)) continue; // unknown names stay as typed
    parts.push(text.slice(last, m.index), { name, whole: m[1] !== undefined });
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(text.slice(last));
  const perMessage = numbersPerMessage(p);
  const gens = Object.entries(p.generators);
  return (ctx) => {
    const vars: Record<string, string | number> = { index: ctx.index + 1 };
    let seq = 0;
    for (const [name, g] of gens) {
      if (g.type === 'sequence') {
        vars[name] = `${g.prefix}${ctx.date}${String(ctx.seqStart + ctx.index * perMessage + seq++).padStart(g.digits, '0')}`;
      } else if (g.type === 'datetime') {
        vars[name] = formatTime(ctx.nowMs + g.offsetMinutes * 60_000, g.format);
      } else {
        vars[name] = g.prefix + digitsFor(`${ctx.jobKey}:${ctx.index}:${name}`, g.length);
      }
    }
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const v = vars[part.name] as string | number;
        out += part.whole ? JSON.stringify(v) : JSON.stringify(String(v)).slice(1, -1);
      }
    }
    return out;
  };
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** A real wall-clock time written `yyyy-MM-dd HH:mm:ss` (no 2月30日, no 24:00:00). */
function isValidDatetime(s: string): boolean {
  const m = DATETIME.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
}

/** Fields of a rendered message that break the preset's required fields and rules. */
export function checkRules(p: Preset, body: Record<string, unknown>): { path: string; check: string; value: unknown }[] {
  const problems: { path: string; check: string; value: unknown }[] = [];
  for (const path of p.required) {
    const v = getPath(body, path);
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) problems.push({ path, check: 'required', value: v });
  }
  for (const rule of p.rules) {
    const v = getPath(body, rule.path);
    if (rule.check === 'required' && (v === undefined || v === null || v === ''))
      problems.push({ path: rule.path, check: 'required', value: v });
    if (rule.check === 'datetime') {
      if (!isValidDatetime(String(v ?? ''))) problems.push({ path: rule.path, check: 'datetime', value: v });
    }
    if (rule.check === 'positive' && !(typeof v === 'number' && v > 0)) problems.push({ path: rule.path, check: 'positive', value: v });
    if (rule.check === 'phone' && !/^1\d{10}$/.test(String(v ?? ''))) problems.push({ path: rule.path, check: 'phone', value: v });
  }
  return problems;
}
