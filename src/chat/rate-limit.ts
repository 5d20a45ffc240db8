import { createBatcher, perDatabase } from '../db/batch';
import type { Database } from '../db/client';

/** A request's place in its key's current minute, and how long until that minute ends. */
export type Counted = { count: number; retryAfterSec: number };

/**
 * The end of an insert of `(key, window_start, count)` rows into rate_limits that adds to the
 * current minute's count (or starts a new minute) and returns each key's new total. Shared with the
 * chat claim, which counts in its own statement (src/chat/inbound.ts).
 */
export const COUNT_UPSERT = `on conflict (key) do update set
         count = case when r.window_start = excluded.window_start then r.count + excluded.count else excluded.count end,
         window_start = excluded.window_start
       returning key, count, ceil(extract(epoch from (window_start + interval '1 minute' - now())))::int as retry_after`;

/**
 * The counts n serial increments would have returned, for requests counted together in one
 * statement: `keys` in request order (a key may repeat; null = not counted), `totals` the new total
 * per key as COUNT_UPSERT returns it. The requests of a key take its last places, in order.
 */
export function serialCounts(
  keys: readonly (string | null)[],
  totals: ReadonlyMap<string, { count: number; retry_after: number }>,
): (Counted | undefined)[] {
  const n = new Map<string, number>();
  for (const k of keys) if (k !== null && totals.has(k)) n.set(k, (n.get(k) ?? 0) + 1);
  const seen = new Map<string, number>();
  return keys.map((k) => {
    const row = k === null ? undefined : totals.get(k);
    if (k === null || !row) return undefined;
    const i = seen.get(k) ?? 0;
    seen.set(k, i + 1);
    return { count: Number(row.count) - (n.get(k) ?? 1) + i + 1, retryAfterSec: Math.max(1, Number(row.retry_after ?? 60)) };
  });
}

// Every count of one event-loop turn in one statement (group commit, src/db/batch.ts): n calls for
// one key add n to it, and the calls get the counts n serial increments would have returned.
const countBatch = perDatabase((db: Database) =>
  createBatcher<string, Counted>(async (keys) => {
    const n = new Map<string, number>();
    for (const k of keys) n.set(k, (n.get(k) ?? 0) + 1);
    const rows = await db.query<{ key: string; count: number; retry_after: number }>(
      `insert into rate_limits as r (key, window_start, count)
         select t.key, date_trunc('minute', now()), t.n from jsonb_to_recordset($1::jsonb) as t(key text, n int)
       ${COUNT_UPSERT}`,
      [JSON.stringify([...n].map(([key, count]) => ({ key, n: count })))],
    );
    const counted = serialCounts(keys, new Map(rows.map((r) => [r.key, r])));
    return counted.map((c) => c ?? { count: 1, retryAfterSec: 60 });
  }),
);

/** The per-person key chat commands are counted under. */
export const rateLimitKey = (caller: { key: string }) => `user:${caller.key}`;

/**
 * Count one request for `key` in the current one-minute window (the database clock, so every
 * instance agrees) and say whether it is within `perMinute`.
 */
export async function takeRateLimit(
  db: Database,
  key: string,
  perMinute: number,
): Promise<{ allowed: boolean; count: number; retryAfterSec: number }> {
  const { count, retryAfterSec } = await countBatch(db)(key);
  return { allowed: count <= perMinute, count, retryAfterSec };
}
