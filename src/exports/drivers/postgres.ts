import postgres from 'postgres';
import type { Column, ColumnKind } from '../cells';
import { type OnBatch, type RunOptions, type SourceClient, type SourceConfig, SourceError } from './types';

const KIND_BY_OID: Record<number, ColumnKind> = {
  16: 'bool',
  20: 'bigint',
  21: 'int',
  23: 'int',
  26: 'int',
  700: 'float',
  701: 'float',
  1700: 'decimal',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamptz',
  114: 'json',
  3802: 'json',
};

/** Column kind of a Postgres type oid. */
export function pgKind(oid: number): ColumnKind {
  if (oid === 17) return 'bytes';
  return KIND_BY_OID[oid] ?? 'text';
}

/** A connection to a Postgres source (postgres.js), one backend, UTC session. */
export function openPostgres(cfg: SourceConfig | { url: string; name: string }): SourceClient {
  const common = {
    max: 1,
    onnotice: () => {},
    fetch_types: false,
    connect_timeout: 10,
    idle_timeout: 30,
    connection: { application_name: 'chatops-export', TimeZone: 'UTC' } as Record<string, string>,
  };
  const sql =
    'url' in cfg
      ? postgres(cfg.url, common)
      : postgres({
          ...common,
          host: cfg.host,
          port: cfg.port,
          database: cfg.database,
          username: cfg.username,
          password: cfg.password ?? '',
        });
  // Keep dates, timestamps, int8 and numeric as the server prints them: cells.ts decides exactly.
  const parsers = (sql.options as unknown as { parsers: Record<string, (x: string) => unknown> }).parsers;
  for (const oid of ['20', '1082', '1114', '1184', '1700']) parsers[oid] = (x: string) => x;
  return {
    dialect: 'postgres',
    async ping() {
      const t0 = performance.now();
      try {
        await sql.unsafe('select 1');
      } catch (err) {
        throw describePgError(err);
      }
      return performance.now() - t0;
    },
    async stream(text: string, params: unknown[], opts: RunOptions, onBatch: OnBatch) {
      let current: { cancel(): void } | undefined;
      const onAbort = () => current?.cancel();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        opts.signal?.throwIfAborted();
        await sql.begin('read only', async (tx) => {
          await tx.unsafe(`set local statement_timeout = ${Math.max(1, Math.floor(opts.timeoutMs))}`);
          // Rows as arrays (`values()`): no object per row, and two columns of the same name both kept.
          const q = tx.unsafe(text, params as never[]).values();
          current = q as unknown as { cancel(): void };
          if (opts.signal?.aborted) current.cancel();
          let columns: Column[] | undefined;
          // One batch ahead: the next fetch is asked for before this batch is written, so the
          // database works while the writer does (measured: the writer waited on fetches ~15% of the time).
          const it = q.cursor(opts.batchSize)[Symbol.asyncIterator]();
          let pending = it.next();
          for (;;) {
            const next = await pending;
            if (next.done) break;
            const rows = next.value;
            pending = it.next();
            pending.catch(() => {}); // its failure is seen when it is awaited (or the transaction ends)
            const meta = (rows as unknown as { columns?: { name: string; type: number }[] }).columns;
            if (!columns) columns = (meta ?? []).map((c) => ({ name: c.name, kind: pgKind(c.type) }));
            await onBatch(columns, rows as unknown as unknown[][]);
          }
          if (!columns) await onBatch(columnsOfEmpty(q), []);
        });
      } catch (err) {
        if (opts.signal?.aborted) throw new SourceError('the query was cancelled on the database server', 'cancelled', { cause: err });
        throw describePgError(err);
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

function columnsOfEmpty(q: unknown): Column[] {
  const cols = (q as { columns?: { name: string; type: number }[] }).columns ?? [];
  return cols.map((c) => ({ name: c.name, kind: pgKind(c.type) }));
}

/** A Postgres driver error in plain words. */
export function describePgError(err: unknown): SourceError {
  const e = err as { code?: string; message?: string; errno?: string };
  const msg = e.message ?? String(err);
  if (e.code === '57014') {
    return /statement timeout/.test(msg)
      ? new SourceError('the query ran past its statement timeout and was stopped by the server', 'timeout', { cause: err })
      : new SourceError('the query was cancelled on the database server', 'cancelled', { cause: err });
  }
  if (e.code === '25006')
    return new SourceError(`the export runs read-only and the statement tried to write: ${msg}`, 'read_only', { cause: err });
  if (e.code === '28P01' || e.code === '28000') return new SourceError(`login refused: ${msg}`, 'auth', { cause: err });
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'CONNECT_TIMEOUT' || e.code === 'ETIMEDOUT' || e.code === '3D000') {
    return new SourceError(`cannot connect: ${msg}`, 'unreachable', { cause: err });
  }
  return new SourceError(msg, 'sql', { cause: err });
}
