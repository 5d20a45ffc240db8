import { z } from 'zod';
import type { Config } from '../config';
import type { Database } from '../db/client';
import type { Column, ColumnKind } from './cells';
import { openMysql } from './drivers/mysql';
import { openPostgres, pgKind } from './drivers/postgres';
import type { SourceClient, SourceConfig } from './drivers/types';
import { type SecretBox, SecretsKeyError, wrongKey } from './secret-box';

/** The built-in source: the bot's own database, read-only. */
export const APP_SOURCE = 'app';

/** What the exports module needs from the process's Deps. */
export interface SourceDeps {
  config: Pick<Config, 'DATABASE_URL'>;
  db: Database;
  secrets: SecretBox;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A data source as typed by an admin (CLI flags or webhook JSON). */
export const sourceInput = z
  .object({
    name: z
      .string()
      .regex(NAME, { error: 'expected lower-case letters, digits, "-" or "_", e.g. shop-replica' })
      .refine((n) => n !== APP_SOURCE, { error: '"app" is the built-in source; pick another name', params: { key: 'source.appReserved' } }),
    kind: z
      .enum(['postgres', 'mysql', 'mariadb'], { error: 'expected postgres, mysql or mariadb' })
      .transform((k) => (k === 'mariadb' ? 'mysql' : k)),
    host: z.string().min(1, { error: 'expected a host name, e.g. 10.0.0.5' }),
    port: z.coerce.number().int().min(1).max(65535).optional(),
    database: z.string().min(1, { error: 'expected a database name' }),
    user: z.string().min(1, { error: 'expected a user name' }),
    password: z.string().optional(),
  })
  .strict();
export type SourceInput = z.input<typeof sourceInput>;

/** A stored source as listed (no password). */
export interface SourceInfo {
  name: string;
  kind: 'postgres' | 'mysql' | 'app';
  host: string;
  port: number;
  database: string;
  username: string;
  hasPassword: boolean;
  updatedAt?: Date;
}

/** Parse `postgres://user:pass@host:port/db` or `mysql://…` into source input fields. */
export function sourceFromUrl(url: string): Omit<SourceInput, 'name'> {
  const u = new URL(url);
  const kind = u.protocol.replace(':', '').replace('postgresql', 'postgres');
  return {
    kind: kind as 'postgres',
    host: u.hostname,
    port: u.port ? Number(u.port) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    user: decodeURIComponent(u.username),
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

/** Create or replace a source; the password is sealed before it reaches the database. */
export async function saveSource(deps: SourceDeps, input: SourceInput, by: string, replace = false): Promise<{ created: boolean }> {
  const s = sourceInput.parse(input);
  const port = s.port ?? (s.kind === 'postgres' ? 5432 : 3306);
  const enc = s.password ? deps.secrets.encrypt(s.password) : null;
  const rows = await deps.db.query<{ created: boolean }>(
    `insert into data_sources (name, kind, host, port, database, username, password_enc, key_id, created_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (name) do update set kind = excluded.kind, host = excluded.host, port = excluded.port,
       database = excluded.database, username = excluded.username, password_enc = excluded.password_enc,
       key_id = excluded.key_id, updated_at = now()
       where $10::boolean
     returning (xmax = 0) as created`,
    [s.name, s.kind, s.host, port, s.database, s.user, enc, enc ? deps.secrets.keyId() : null, by, replace],
  );
  if (rows.length === 0) throw new SourceExistsError(s.name);
  return { created: Boolean(rows[0]?.created) };
}

/** A source of that name exists and replace was not asked for. */
export class SourceExistsError extends Error {
  constructor(readonly sourceName: string) {
    super(`a data source named "${sourceName}" already exists; use --replace (CLI) or PUT (webhook) to change it`);
    this.name = 'SourceExistsError';
  }
}

/** Every source, the built-in `app` first. */
export async function listSources(deps: SourceDeps): Promise<SourceInfo[]> {
  const rows = await deps.db.query<Record<string, unknown>>(`select * from data_sources order by name`);
  return [appInfo(deps), ...rows.map(toInfo)];
}

/** One source's description, or undefined. */
export async function getSourceInfo(deps: SourceDeps, name: string): Promise<SourceInfo | undefined> {
  if (name === APP_SOURCE) return appInfo(deps);
  const [r] = await deps.db.query<Record<string, unknown>>(`select * from data_sources where name = $1`, [name]);
  return r ? toInfo(r) : undefined;
}

/** Remove a source; false when there was none. */
export async function removeSource(deps: SourceDeps, name: string): Promise<boolean> {
  const rows = await deps.db.query(`delete from data_sources where name = $1 returning id`, [name]);
  return rows.length > 0;
}

/**
 * Fail at start-up when stored passwords were sealed under another key than the configured one,
 * instead of failing (or producing garbage) at the first export.
 */
export async function checkSecretsKey(deps: SourceDeps): Promise<void> {
  const rows = await deps.db.query<{ key_id: string; names: string }>(
    `select key_id, string_agg(name, ', ' order by name) as names from data_sources where key_id is not null group by key_id`,
  );
  const current = rows.length > 0 ? deps.secrets.keyId() : '';
  for (const r of rows) {
    if (r.key_id !== current) throw new SecretsKeyError(`${wrongKey(r.key_id, current)} (sources: ${r.names})`);
  }
}

/** Open a connection to a source by name (`app` = the bot's own database). Undefined when unknown. */
export async function openSource(deps: SourceDeps, name: string): Promise<SourceClient | undefined> {
  if (name === APP_SOURCE) {
    if (deps.db.kind === 'postgres' && deps.db.url) return openPostgres({ name, url: deps.db.url });
    return openEmbedded(deps.db);
  }
  const [r] = await deps.db.query<Record<string, unknown>>(`select * from data_sources where name = $1`, [name]);
  if (!r) return undefined;
  const cfg: SourceConfig = {
    name,
    kind: r.kind as 'postgres' | 'mysql',
    host: String(r.host),
    port: Number(r.port),
    database: String(r.database),
    username: String(r.username),
    password: r.password_enc ? deps.secrets.decrypt(String(r.password_enc)) : undefined,
  };
  return cfg.kind === 'mysql' ? openMysql(cfg) : openPostgres(cfg);
}

function appInfo(deps: SourceDeps): SourceInfo {
  const u = deps.db.kind === 'postgres' && deps.db.url ? new URL(deps.db.url) : undefined;
  return {
    name: APP_SOURCE,
    kind: 'app',
    host: u ? u.hostname : 'embedded',
    port: u ? Number(u.port || 5432) : 0,
    database: u ? u.pathname.slice(1) : 'pglite',
    username: u ? decodeURIComponent(u.username) : '-',
    hasPassword: false,
  };
}

function toInfo(r: Record<string, unknown>): SourceInfo {
  return {
    name: String(r.name),
    kind: r.kind as 'postgres',
    host: String(r.host),
    port: Number(r.port),
    database: String(r.database),
    username: String(r.username),
    hasPassword: Boolean(r.password_enc),
    updatedAt: r.updated_at ? new Date(r.updated_at as Date) : undefined,
  };
}

/**
 * The embedded database (PGlite) as the `app` source: one connection shared with the bot, so no
 * separate transaction; the statement runs as a subquery (which admits no INSERT/UPDATE/DELETE)
 * with a row cap. The statement timeout is not enforceable here (documented in the README).
 */
function openEmbedded(db: Database): SourceClient {
  return {
    dialect: 'postgres',
    async ping() {
      const t0 = performance.now();
      await db.query('select 1');
      return performance.now() - t0;
    },
    async stream(text, params, opts, onBatch) {
      opts.signal?.throwIfAborted();
      const statement = `select * from (${text.replace(/;\s*$/, '')}) as export_q`;
      let columns: Column[];
      let rows: unknown[][];
      if (db.queryArrays) {
        // Each column's declared type (a date stays a date, not an instant in the bot's zone).
        const res = await db.queryArrays(statement, params);
        columns = res.fields.map((f) => ({ name: f.name, kind: pgKind(f.oid) }));
        rows = res.rows;
      } else {
        const objects = await db.query<Record<string, unknown>>(statement, params);
        const names = objects[0] ? Object.keys(objects[0]) : [];
        columns = names.map((n) => ({ name: n, kind: guessKind(objects, n) }));
        rows = objects.map((r) => names.map((n) => r[n]));
      }
      for (let i = 0; i < rows.length || i === 0; i += opts.batchSize) {
        opts.signal?.throwIfAborted();
        await onBatch(columns, rows.slice(i, i + opts.batchSize));
        if (rows.length === 0) break;
      }
    },
    async close() {},
  };
}

function guessKind(rows: Record<string, unknown>[], name: string): ColumnKind {
  const v = rows.find((r) => r[name] !== null && r[name] !== undefined)?.[name];
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'bigint';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Date) return 'timestamptz';
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return 'json';
  return 'text';
}
