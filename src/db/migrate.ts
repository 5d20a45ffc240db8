import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from './client';

/**
 * Folder of the SQL migrations drizzle-kit generates from schema.ts: the nearest `drizzle/` above this
 * module, which is src/db/ when run from source and a chunk under dist/ when run compiled.
 */
export const MIGRATIONS_FOLDER = findUp(path.dirname(fileURLToPath(import.meta.url)), 'drizzle/meta/_journal.json', 'drizzle');

function findUp(from: string, marker: string, folder: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, marker))) return path.join(dir, folder);
    if (path.dirname(dir) === dir) throw new Error(`no ${marker} above ${from}`);
  }
}

// Any constant works; it only has to be the same for every instance of the bot.
const MIGRATION_LOCK = 4_711_001;

/**
 * Apply pending migrations. On a shared Postgres a session advisory lock, held on a dedicated
 * connection, makes instances that start together take turns, so each migration runs once.
 */
export async function migrateDb(db: Database): Promise<void> {
  if (db.kind === 'pglite' || !db.url) {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
    await migratePglite(db.orm as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const [{ default: postgres }, { drizzle }, { migrate: migratePostgres }] = await Promise.all([
    import('postgres'),
    import('drizzle-orm/postgres-js'),
    import('drizzle-orm/postgres-js/migrator'),
  ]);
  const one = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await one`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzle(one), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await one.end({ timeout: 5 });
  }
}
