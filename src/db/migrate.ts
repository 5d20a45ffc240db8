import { fileURLToPath } from 'node:url';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Database } from './client';

/** Folder of the SQL migrations drizzle-kit generates from schema.ts. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

// Any constant works; it only has to be the same for every instance of the bot.
const MIGRATION_LOCK = 4_711_001;

/**
 * Apply pending migrations. On a shared Postgres a session advisory lock, held on a dedicated
 * connection, makes instances that start together take turns, so each migration runs once.
 */
export async function migrateDb(db: Database): Promise<void> {
  if (db.kind === 'pglite' || !db.url) {
    await migratePglite(db.orm as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const one = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await one`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzle(one), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await one.end({ timeout: 5 });
  }
}
