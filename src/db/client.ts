import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import { initPgliteDir, PGLITE_CONF } from './pglite-init';
import * as schema from './schema';
import type { Database, DbOptions, Orm } from './types';

export type { Database, DbOptions, Orm } from './types';

/**
 * Open the database the configuration names: postgres.js for a URL, else PGlite. Each driver is
 * imported only when chosen, so neither mode loads the other's code.
 */
export async function createDb(opts: DbOptions): Promise<Database> {
  if (!opts.url) return createPgliteDb(opts.dataDir);
  // The Worker imports ./postgres directly; here it loads only when a URL is configured.
  const { createPostgresDb } = await import('./postgres');
  return createPostgresDb(opts.url, opts);
}

async function createPgliteDb(dataDir?: string): Promise<Database> {
  // Baseline-compiled WASM only: V8's optimising tier would add ~85 MB of machine code for
  // Postgres's hot functions and compete for the CPU while the bot starts (README "Operations").
  v8.setFlagsFromString('--liftoff-only');
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([import('@electric-sql/pglite'), import('drizzle-orm/pglite')]);
  let release = () => {};
  let pgDir: string | undefined;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    release = lockDataDir(dataDir);
    pgDir = path.join(dataDir, 'pg');
  }
  let pg: PGlite;
  try {
    if (pgDir && !existsSync(path.join(pgDir, 'PG_VERSION'))) await initPgliteDir(pgDir);
    pg = await PGlite.create({ dataDir: pgDir, postgresqlconf: PGLITE_CONF });
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
    async queryArrays(text: string, params: unknown[] = []) {
      const res = await pg.query<unknown[]>(text, params, { rowMode: 'array' });
      return { rows: res.rows, fields: res.fields.map((f) => ({ name: f.name, oid: f.dataTypeID })) };
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
