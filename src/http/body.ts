import type { Context } from 'hono';
import type { Deps } from '../deps';
import { ApiError } from './errors';

/** Largest request bodies accepted: a robot callback is a few KB; webhook and API calls carry item lists. */
export const BODY_LIMITS = { callback: 256 * 1024, api: 1024 * 1024 } as const;

/**
 * Read a JSON object body (empty = `{}`), refusing keys outside `known` by name. Returns the raw
 * text too (the idempotency hash covers it).
 */
export async function readJsonObject(
  c: Context,
  deps: Pick<Deps, 't'>,
  example: string,
  known?: readonly string[],
): Promise<{ raw: string; json: Record<string, unknown> }> {
  const raw = await c.req.text();
  let json: unknown = {};
  if (raw.trim() !== '') {
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ApiError(400, 'bad_args', deps.t('http.notJson', { example }));
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ApiError(400, 'bad_args', deps.t('http.notObject', { example }));
  }
  const obj = json as Record<string, unknown>;
  if (known) {
    const unknown = Object.keys(obj).find((k) => !known.includes(k));
    if (unknown !== undefined) {
      throw new ApiError(
        400,
        'bad_args',
        deps.t('http.unknownKey', { key: unknown.slice(0, 60), known: known.join(', ') }),
        unknown.slice(0, 60),
      );
    }
  }
  return { raw, json: obj };
}
