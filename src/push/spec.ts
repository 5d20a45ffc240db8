import { UserError } from '../errors';
import type { Locale, MessageKey } from '../i18n';
import { shanghaiDate } from './generators';
import { getPath, type Preset } from './preset-schema';
import type { ItemSpec, PushSpec } from './push-spec';
import { renderMessage } from './render';
import { checkRules, userRequiredPaths } from './rules';

export type { ItemSpec, PushSpec } from './push-spec';

const SKU = /^[\w.\-/]{1,64}$/;

/** Display name of a preset in a locale. */
export function presetName(p: Preset, locale: Locale): string {
  return locale === 'en' ? p.names.en : p.names.zh;
}

/** Label of a JSON path for messages ("店铺ID (storeId)"). */
export function fieldLabel(p: Preset, path: string, locale: Locale): string {
  const l = Object.hasOwn(p.labels, path) ? p.labels[path] : undefined;
  return l ? `${locale === 'en' ? l.en : l.zh} (${path})` : path;
}

/**
 * Parse `A001*2,B002` (quantity defaults to 1). The quantity comes only after `*` (or `×`, which
 * no SKU contains), so SKUs that end in digits or contain an x (`BOX12`) stay whole. Returns null when the text is not a list of items.
 */
export function parseItems(text: string): ItemSpec[] | null {
  const parts = text.split(/[,，;；\s]+/).filter(Boolean);
  if (parts.length === 0) return null;
  const items: ItemSpec[] = [];
  for (const part of parts) {
    const star = part.search(/[*×]/);
    const sku = star < 0 ? part : part.slice(0, star);
    const qty = star < 0 ? '1' : part.slice(star + 1);
    const quantity = /^\d+$/.test(qty) ? Number(qty) : Number.NaN;
    if (!SKU.test(sku) || !Number.isInteger(quantity) || quantity < 1 || quantity > 100_000) return null;
    items.push({ sku, quantity });
  }
  return items;
}

/**
 * The JSON path a chat key names: a short name (`store`), or a path to a plain value of the
 * preset's own body. Inherited names (`toString`, `__proto__`) are never fields.
 */
export function resolveField(p: Preset, key: string): string | undefined {
  const own = Object.hasOwn(p.fields, key) ? p.fields[key] : undefined;
  const short = own ?? Object.entries(p.fields).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  if (short) return short;
  if (key.startsWith(`${p.items.path}.`) || key === p.items.path) return undefined;
  const v = getPath(p.body, key);
  return v === undefined || (v !== null && typeof v === 'object') ? undefined : key;
}

/**
 * The field names a user may type, one per field: the short names, the first of several names for
 * the same path standing for the others (`store` for both store and 门店).
 */
export function validFieldNames(p: Preset): string[] {
  const byPath = new Map<string, string[]>();
  for (const [short, path] of Object.entries(p.fields)) byPath.set(path, [...(byPath.get(path) ?? []), short]);
  return [...byPath.values()].map((names) => names.join('/'));
}

/** A value that passes a user-required field's type and rules, for examples. */
function sampleValue(p: Preset, path: string): string {
  const checks = p.rules.filter((r) => r.path === path).map((r) => r.check);
  if (checks.includes('phone')) return '13800000000';
  if (checks.includes('datetime')) return '"2026-11-23 10:00:00"';
  const dflt = getPath(p.body, path);
  if (typeof dflt === 'boolean') return 'true';
  return '12';
}

/**
 * The arguments of a /push line that works for this preset as it stands: every field the user must
 * give (userRequiredPaths, by its first short name) and a SKU. `/push types` shows it; a test runs it.
 */
export function exampleArgs(p: Preset): string {
  const fields = userRequiredPaths(p).map((path) => {
    const short = Object.entries(p.fields).find(([, v]) => v === path)?.[0] ?? path;
    return `${short}=${sampleValue(p, path)}`;
  });
  return [...fields, 'sku=A001*2'].join(' ');
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

function parseItemsInput(raw: unknown): ItemSpec[] {
  let items: ItemSpec[] | null = null;
  if (Array.isArray(raw)) {
    items = raw.every((i) => i && typeof i === 'object' && SKU.test(String((i as ItemSpec).sku ?? '')))
      ? raw.map((i) => ({ sku: String((i as ItemSpec).sku), quantity: Number((i as ItemSpec).quantity ?? 1) }))
      : null;
    if (items?.some((i) => !Number.isInteger(i.quantity) || i.quantity < 1)) items = null;
    if (!items) throw new UserError('bad_args', 'push.badSku', { value: JSON.stringify(raw).slice(0, 80) }, 'sku');
  } else if (raw !== undefined && raw !== null && String(raw).trim() !== '') {
    items = parseItems(String(raw));
    if (!items) throw new UserError('bad_args', 'push.badSku', { value: String(raw) }, 'sku');
  }
  return items ?? [];
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
  const given = new Map<string, string>(); // path -> the key that set it
  for (const [key, raw] of Object.entries(input.overrides)) {
    if (raw === undefined) continue;
    const path = resolveField(p, key);
    if (!path) {
      throw new UserError(
        'bad_args',
        'push.unknownField',
        { field: key, type: presetName(p, locale), valid: validFieldNames(p).join(locale === 'en' ? ', ' : '、') },
        key,
      );
    }
    const before = given.get(path);
    if (before !== undefined) throw new UserError('bad_args', 'push.repeatedField', { field: key, other: before }, key);
    given.set(path, key);
    overrides[path] = coerce(p, path, raw, locale);
  }
  const items = parseItemsInput(input.items);
  if (items.length === 0) throw new UserError('bad_args', 'push.missingSku', { type: p.type, args: exampleArgs(p) }, 'sku');
  const spec: PushSpec = { type: p.type, queue: input.queue ?? p.queue, count: input.count, overrides, items };
  const sample = renderMessage(p, spec, { index: 0, seqStart: 1, date: shanghaiDate(nowMs), nowMs, jobKey: 'check', installTag: '0' });
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
