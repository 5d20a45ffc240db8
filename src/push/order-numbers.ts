import type { Database } from '../db/client';

/**
 * Reserve `n` consecutive numbers for a push's order numbers. One UPDATE under the counter's row
 * lock: ranges never overlap across pushes, users or instances.
 */
export async function reserveNumbers(db: Database, n: number): Promise<number> {
  const [row] = await db.query<{ start: number }>(
    `update push_counters set value = value + $1 where name = 'order_no' returning value - $1 + 1 as start`,
    [n],
  );
  if (!row) throw new Error('push_counters has no order_no row; the 0003 migration did not run');
  return Number(row.start);
}

/** The next number a push would get, without reserving it (for dry runs). */
export async function peekNextNumber(db: Database): Promise<number> {
  const [row] = await db.query<{ next: number }>(`select value + 1 as next from push_counters where name = 'order_no'`);
  return Number(row?.next ?? 1);
}
