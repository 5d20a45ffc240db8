import { z } from 'zod';

/** A value generated per message: referenced as `{{name}}` inside string values of the body. */
export const generatorSchema = z.discriminatedUnion('type', [
  // prefix + yyyyMMdd (the push's date, Asia/Shanghai) + zero-padded number from a Postgres counter:
  // never repeats across runs, users or instances.
  z.object({
    type: z.literal('sequence'),
    prefix: z.string().regex(/^[A-Z]{1,6}$/, 'prefix: 1-6 capital letters'),
    digits: z.number().int().min(4).max(12).default(8),
  }),
  // The time the message is rendered, in the order system's format.
  z.object({
    type: z.literal('datetime'),
    format: z.enum(['yyyy-MM-dd HH:mm:ss', 'yyyyMMddHHmmss', 'iso', 'epochMillis', 'yyyy-MM-dd']).default('yyyy-MM-dd HH:mm:ss'),
    /** Shift from now, e.g. -30 for "half an hour ago" (a pay time before the push). */
    offsetMinutes: z.number().int().default(0),
  }),
  // Digits that look random but are the same whenever the same message is rendered again.
  z.object({ type: z.literal('digits'), length: z.number().int().min(1).max(18), prefix: z.string().max(8).default('') }),
]);

const localized = z.object({ zh: z.string().min(1), en: z.string().min(1) });
const jsonPath = z.string().regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/, 'a dotted JSON path such as buyer.buyerName');

/** A rule checked on every rendered message (after overrides and generators). */
export const ruleSchema = z.object({
  path: jsonPath,
  check: z.enum(['required', 'datetime', 'positive', 'phone']),
});

/**
 * One order type of the order system: its queue, names, short option names, required fields, the
 * item template and the message body. Files in presets/ are validated against this at start-up.
 */
export const presetSchema = z
  .object({
    type: z.string().regex(/^[a-z][a-z0-9_]*$/, 'type: snake_case, the file name without .json'),
    names: localized,
    description: localized,
    aliases: z.array(z.string().min(1)).default([]),
    queue: z.string().regex(/^[\w.\-:]+$/, 'queue: a RabbitMQ queue name'),
    /** JSON path of the message's own order number, reported as first/last in results and history. */
    orderNoPath: jsonPath,
    /** Short chat option -> JSON path (`store` -> `storeId`). Chinese short names are welcome. */
    fields: z.record(z.string().min(1), jsonPath),
    /** Human labels of JSON paths, for help and error messages. */
    labels: z.record(jsonPath, localized).default({}),
    required: z.array(jsonPath).default([]),
    rules: z.array(ruleSchema).default([]),
    items: z.object({
      path: jsonPath,
      sku: jsonPath,
      quantity: jsonPath,
      /** Other item fields that repeat an item value (e.g. platformSkuCode = sku). */
      copySku: z.array(jsonPath).default([]),
      /**
       * A body total made of the items' amounts (`refundAmount` = sum of the items' refundAmount):
       * kept in agreement, whichever of the two the user sets.
       */
      total: z.object({ body: jsonPath, item: jsonPath }).optional(),
    }),
    generators: z.record(z.string().regex(/^[a-zA-Z]\w*$/), generatorSchema),
    body: z.record(z.string(), z.unknown()),
  })
  .superRefine((p, ctx) => {
    const items = getPath(p.body, p.items.path);
    if (!Array.isArray(items) || items.length !== 1 || typeof items[0] !== 'object' || items[0] === null) {
      ctx.addIssue({ code: 'custom', path: ['items', 'path'], message: `body.${p.items.path} must be an array holding one item template` });
    } else {
      for (const rel of [p.items.sku, p.items.quantity, ...p.items.copySku, ...(p.items.total ? [p.items.total.item] : [])]) {
        if (getPath(items[0], rel) === undefined) {
          ctx.addIssue({ code: 'custom', path: ['items'], message: `the item template has no ${rel}` });
        }
      }
    }
    for (const [short, path] of Object.entries(p.fields)) {
      if (getPath(p.body, path) === undefined) {
        ctx.addIssue({ code: 'custom', path: ['fields', short], message: `${path} is not in the body` });
      }
    }
    if (p.items.total && typeof getPath(p.body, p.items.total.body) !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['items', 'total'], message: `${p.items.total.body} must be a number in the body` });
    }
    for (const path of [...p.required, ...p.rules.map((r) => r.path), p.orderNoPath]) {
      if (getPath(p.body, path) === undefined) ctx.addIssue({ code: 'custom', path: ['required'], message: `${path} is not in the body` });
    }
    for (const name of placeholders(p.body)) {
      if (!(name in p.generators) && !BUILTIN_PLACEHOLDERS.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['body'],
          message: `{{${name}}} is neither a generator nor one of ${BUILTIN_PLACEHOLDERS.join(', ')}`,
        });
      }
    }
  });

export type Preset = z.output<typeof presetSchema>;
export type Generator = z.output<typeof generatorSchema>;

/** Placeholders every message can use besides its generators. */
export const BUILTIN_PLACEHOLDERS = ['index', 'itemIndex', 'count'];

/** Read a dotted path from a JSON value (undefined when absent). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    // Own properties only: `toString` or `__proto__` are not paths of a JSON body.
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Every `{{name}}` used in string values of a JSON value. */
export function placeholders(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const m of value.matchAll(/\{\{(\w+)\}\}/g)) out.add(m[1] as string);
  else if (Array.isArray(value)) for (const v of value) placeholders(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) placeholders(v, out);
  return out;
}
