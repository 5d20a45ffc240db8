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
  /**
   * One statement's rows as arrays with each column's name and type oid (PGlite only: the exporter's
   * `app` source needs the types, which `query` drops; on a server it opens its own connection).
   */
  queryArrays?(text: string, params?: unknown[]): Promise<{ rows: unknown[][]; fields: { name: string; oid: number }[] }>;
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
