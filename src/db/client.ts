import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { initPgliteDir, PGLITE_CONF } from './pglite-init';
import * as schema from './schema';

/** The Drizzle query builder over our schema, the same type for both drivers. */
export type Orm = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A connection to Postgres (real server or embedded PGlite) with the few raw operations the queue needs. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** The server URL (postgres only); migrations open their own single connection from it. */
  readonly url?: string;
  readonly orm: Orm;
  /** Run one SQL statement with positional parameters ($1, $2…) and return its rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Subscribe to NOTIFY on a channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres:// URL; when absent the embedded PGlite is used. */
  url?: string;
  /** Directory for PGlite's files; absent = in memory (tests). */
  dataDir?: string;
  poolSize?: number;
  applicationName?: string;
}

/**
 * Open the database the configuration names: postgres.js for a URL, else PGlite. Each driver is
 * imported only when chosen, so neither mode loads the other's code.
 */
export async function createDb(opts: DbOptions): Promise<Database> {
  return opts.url ? createPostgresDb(opts.url, opts) : createPgliteDb(opts.dataDir);
}

async function createPostgresDb(url: string, opts: DbOptions): Promise<Database> {
  const [{ default: postgres }, { drizzle: drizzlePostgres }] = await Promise.all([import('postgres'), import('drizzle-orm/postgres-js')]);
  const client = postgres(url, {
    max: opts.poolSize ?? 10,
    onnotice: () => {},
    // JIT compilation only slows the short statements a job queue runs.
    connection: { application_name: opts.applicationName ?? 'chatops-bot', jit: 'off' } as Record<string, string>,
    // int8 ids and counts fit comfortably in a double; keep them numbers like PGlite does.
    types: {
      int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  });
  const orm = drizzlePostgres(client, { schema }) as unknown as Orm;
  // Drizzle makes postgres.js hand back timestamptz as text; raw queries should see Dates, as on
  // PGlite. Drizzle's own timestamptz columns accept a Date just as well.
  const options = client.options as unknown as { parsers: Record<string, unknown>; serializers: Record<string, unknown> };
  options.parsers['1184'] = (x: string) => new Date(x);
  options.serializers['1184'] = (x: Date | string | number) => (x instanceof Date ? x : new Date(x)).toISOString();
  return {
    kind: 'postgres',
    url,
    orm,
    async query<T>(text: string, params: unknown[] = []) {
      const rows = await client.unsafe(text, params as never[], { prepare: true });
      return rows as unknown as T[];
    },
    async listen(channel, onPayload) {
      const sub = await client.listen(channel, onPayload);
      return () => sub.unlisten();
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
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
