import { z } from 'zod';

/** Attach the example shown in /help and in error replies to an argument schema. */
export function example<T extends z.ZodType>(schema: T, value: string): T {
  return schema.meta({ example: value }) as T;
}

/** The example attached with `example()`, if any. */
export function exampleOf(schema: unknown): string | undefined {
  const meta = (schema as z.ZodType).meta?.() as { example?: string } | undefined;
  return meta?.example;
}

/** A whole number typed in chat or sent as JSON. */
export const intArg = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** true/false from chat words (true, yes, 1, 是, 对) or JSON booleans. */
export const boolArg = () =>
  z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['true', 'yes', 'y', '1', 'on', '是', '对'].includes(s)) return true;
    if (['false', 'no', 'n', '0', 'off', '否', '不'].includes(s)) return false;
    return v;
  }, z.boolean());

/** A comma-separated list in chat, or a JSON array. */
export const listArg = () =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(/[,，、]/)
            .map((x) => x.trim())
            .filter(Boolean)
        : v,
    z.array(z.string().min(1)).min(1),
  );
