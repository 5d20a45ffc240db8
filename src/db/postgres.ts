import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';
import type { Database, DbOptions, Orm } from './types';

/**
 * A Database over a Postgres server with postgres.js. Nothing here needs Node: the Worker
 * (src/worker.ts) opens the same client through its Hyperdrive binding.
 */
export function createPostgresDb(url: string, opts: DbOptions): Database {
  const client = postgres(url, {
    max: opts.poolSize ?? 10,
    onnotice: () => {},
    // JIT compilation only slows the short statements a job queue runs. Every statement is planned
    // for the tables as they are now: a pool keeps its prepared statements for hours, and a generic
    // plan cached while a table was small (every table starts empty) scans it whole for ever after
    // where nothing runs ANALYZE (autovacuum off) — README "Intake cost".
    connection: {
      application_name: opts.applicationName ?? 'chatops-bot',
      jit: 'off',
      plan_cache_mode: 'force_custom_plan',
    } as Record<string, string>,
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
