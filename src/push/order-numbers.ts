import { randomInt } from 'node:crypto';
import type { Database } from '../db/client';

/** Digits of the install tag written into every order number. */
export const INSTALL_TAG_DIGITS = 6;

/**
 * Reserve `n` consecutive numbers for a push's order numbers. One UPDATE under the counter's row
 * lock: ranges never overlap across pushes, users or instances sharing this database.
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

/**
 * This install's tag: random digits drawn the first time this database numbers an order, then
 * stored (`push_counters` row `install_tag`) and used for ever. The counter only keeps numbers apart
 * within one database; two installs (a fresh `./data`, another instance on its own database) both
 * count from 1, and the tag between date and sequence keeps their numbers apart too. Drawn lazily,
 * not in a migration, so databases cloned from one migrated template still get tags of their own.
 */
export async function installTag(db: Database): Promise<string> {
  const drawn = randomInt(0, 10 ** INSTALL_TAG_DIGITS);
  await db.query(`insert into push_counters (name, value) values ('install_tag', $1) on conflict (name) do nothing`, [drawn]);
  const [row] = await db.query<{ value: number }>(`select value from push_counters where name = 'install_tag'`);
  return String(row?.value ?? drawn).padStart(INSTALL_TAG_DIGITS, '0');
}
