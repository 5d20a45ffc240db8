import type { Database } from '../db/client';

/**
 * Count one request for `key` in the current one-minute window (the database clock, so every
 * instance agrees) and say whether it is within `perMinute`.
 */
export async function takeRateLimit(
  db: Database,
  key: string,
  perMinute: number,
): Promise<{ allowed: boolean; count: number; retryAfterSec: number }> {
  const [row] = await db.query<{ count: number; retry_after: number }>(
    `insert into rate_limits as r (key, window_start, count)
       values ($1, date_trunc('minute', now()), 1)
     on conflict (key) do update set
       count = case when r.window_start = excluded.window_start then r.count + 1 else 1 end,
       window_start = excluded.window_start
     returning count, ceil(extract(epoch from (window_start + interval '1 minute' - now())))::int as retry_after`,
    [key],
  );
  const count = Number(row?.count ?? 1);
  return { allowed: count <= perMinute, count, retryAfterSec: Math.max(1, Number(row?.retry_after ?? 60)) };
}
