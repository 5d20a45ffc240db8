import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema';

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
