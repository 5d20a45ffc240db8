import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { createPostgresDb } from './postgres';
import * as schema from './schema';
import type { Database, DbOptions, Orm } from './types';

export type { Database, DbOptions, Orm } from './types';

/** Open the database the configuration names: postgres.js for a URL, else PGlite. */
export async function createDb(opts: DbOptions): Promise<Database> {
  return opts.url ? createPostgresDb(opts.url, opts) : createPgliteDb(opts.dataDir);
}

async function createPgliteDb(dataDir?: string): Promise<Database> {
  let release = () => {};
  let pgDir: string | undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    release = lockDataDir(dataDir);
    pgDir = path.join(dataDir, 'pg');
  }
  let pg: PGlite;
  try {
    pg = await PGlite.create(pgDir ? { dataDir: pgDir } : {});
  } catch (err) {
    release();
    throw err;
  }
  const orm = drizzlePglite(pg, { schema }) as unknown as Orm;
  return {
    kind: 'pglite',
    orm,
    async query<T>(text: string, params: unknown[] = []) {
      const res = await pg.query<T>(text, params);
      return res.rows;
    },
    async listen(channel, onPayload) {
      const unsub = await pg.listen(channel, onPayload);
      return () => unsub();
    },
    async close() {
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
}

/** Raised when another live process already holds the embedded database. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The embedded database in ${dataDir} is in use by process ${pid}. ` +
        'PGlite allows one process at a time: stop that process first, or set DATABASE_URL to share a Postgres server.',
    );
    this.name = 'DataDirLockedError';
  }
}

/** PGlite is single-process: a pid file in the data directory keeps a second process out. */
function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'pglite.lock');
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) throw new DataDirLockedError(dataDir, pid);
      unlinkSync(file); // stale lock from a process that is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
