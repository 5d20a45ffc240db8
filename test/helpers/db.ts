import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDb, type Database } from '../../src/db/client';
import { migrateDb } from '../../src/db/migrate';
import { pgUrl, withAdmin } from './pg';

export type DbKind = 'pglite' | 'postgres';

/** Both databases the data layer must work on. */
export const DB_KINDS: DbKind[] = ['pglite', 'postgres'];

export interface TestDb {
  db: Database;
  /** postgres:// URL of this database (postgres kind only), for child processes. */
  url?: string;
  name?: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database: in-memory PGlite, or a clone of the run's template on the real Postgres. */
export async function createTestDb(kind: DbKind, poolSize = 5): Promise<TestDb> {
  if (kind === 'pglite') {
    const db = await createDb({});
    await migrateDb(db);
    return { db, drop: () => db.close() };
  }
  const name = `chatops_t_${randomBytes(5).toString('hex')}`;
  const template = inject('pgTemplate');
  await withAdmin((sql) => sql.unsafe(`create database ${name} template ${template}`));
  const url = pgUrl(name);
  const db = await createDb({ url, poolSize });
  return {
    db,
    url,
    name,
    async drop() {
      await db.close();
      await withAdmin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
    },
  };
}
