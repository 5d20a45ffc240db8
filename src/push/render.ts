import { type GeneratedValues, generatedValues, type RenderContext } from './generators';
import { getPath, type Preset } from './preset-schema';
import type { PushSpec } from './push-spec';

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[keys[keys.length - 1] as string] = value;
}

function substitute(value: unknown, vars: GeneratedValues): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole && Object.hasOwn(vars, whole[1] as string)) return vars[whole[1] as string];
    return value.replace(/\{\{(\w+)\}\}/g, (m, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, vars);
    return out;
  }
  return value;
}

/**
 * The spec applied to the preset's body, before generated values: the items expanded from the item
 * template (`{{itemIndex}}` filled), the overrides set, `{{count}}` filled.
 */
function applySpec(p: Preset, spec: PushSpec): Record<string, unknown> {
  const body = structuredClone(p.body) as Record<string, unknown>;
  const template = (getPath(p.body, p.items.path) as unknown[])[0] as Record<string, unknown>;
  const items = spec.items.map((item, j) => {
    const line = structuredClone(template);
    setPath(line, p.items.sku, item.sku);
    setPath(line, p.items.quantity, item.quantity);
    for (const path of p.items.copySku) setPath(line, path, item.sku);
    return substitute(line, { itemIndex: j + 1 });
  });
  setPath(body, p.items.path, items);
  for (const [path, value] of Object.entries(spec.overrides)) setPath(body, path, value);
  if (p.items.total) balanceTotal(body, items as Record<string, unknown>[], p.items.total, spec);
  return substitute(body, { count: spec.count }) as Record<string, unknown>;
}

/**
 * Keep a body total and its items' amounts in agreement: a total the user set is split over the
 * lines (in cents, the remainder on the last); otherwise the total is the sum of the lines.
 */
function balanceTotal(
  body: Record<string, unknown>,
  items: Record<string, unknown>[],
  total: { body: string; item: string },
  spec: PushSpec,
) {
  const given = spec.overrides[total.body];
  if (typeof given === 'number') {
    const cents = Math.round(given * 100);
    const each = Math.floor(cents / items.length);
    items.forEach((line, j) => {
      setPath(line, total.item, (j === items.length - 1 ? cents - each * (items.length - 1) : each) / 100);
    });
    return;
  }
  const sum = items.reduce((acc, line) => acc + Math.round(Number(getPath(line, total.item) ?? 0) * 100), 0);
  setPath(body, total.body, sum / 100);
}

/**
 * Render message `ctx.index` of a push. Pure and deterministic: the same spec and context give the
 * same message (order numbers come from the reserved range; `digits` are seeded), so a resumed push
 * republishes exactly what it published before.
 */
export function renderMessage(p: Preset, spec: PushSpec, ctx: RenderContext): { body: Record<string, unknown>; orderNo: string } {
  const rendered = substitute(applySpec(p, spec), generatedValues(p, spec.count, ctx)) as Record<string, unknown>;
  return { body: rendered, orderNo: String(getPath(rendered, p.orderNoPath) ?? '') };
}

/**
 * The fast path of renderMessage for publishing: the spec is applied once to a JSON skeleton, and
 * each message is the skeleton with its generated values spliced in — no cloning or object walk.
 * Produces the same JSON as JSON.stringify(renderMessage(...).body) (a test holds them together).
 */
export function compileRenderer(p: Preset, spec: PushSpec): (ctx: RenderContext) => string {
  const text = JSON.stringify(applySpec(p, spec));
  // Split at placeholders: "{{x}}" as a whole JSON string takes the value's own JSON (a number
  // stays a number); {{x}} inside a string takes the value's escaped text.
  const parts: (string | { name: string; whole: boolean })[] = [];
  let last = 0;
  for (const m of text.matchAll(/"\{\{(\w+)\}\}"|\{\{(\w+)\}\}/g)) {
    const name = (m[1] ?? m[2]) as string;
    if (name !== 'index' && !Object.hasOwn(p.generators, name)) continue; // unknown names stay as typed
    parts.push(text.slice(last, m.index), { name, whole: m[1] !== undefined });
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(text.slice(last));
  return (ctx) => {
    const vars = generatedValues(p, spec.count, ctx);
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
