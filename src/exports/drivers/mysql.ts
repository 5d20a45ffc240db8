import type { Column, ColumnKind } from '../cells';
import { lazyImport } from '../lazy';
import { type OnBatch, type RunOptions, type SourceClient, type SourceConfig, SourceError } from './types';

type Mysql = typeof import('mysql2');
type Conn = import('mysql2').Connection;

/** Column kind of a MySQL column type (mysql2 `columnType`), with its character set (63 = binary). */
export function mysqlKind(type: number, charset?: number): ColumnKind {
  switch (type) {
    case 1:
    case 2:
    case 3:
    case 9:
    case 13:
      return 'int';
    case 8:
      return 'bigint';
    case 0:
    case 246:
      return 'decimal';
    case 4:
    case 5:
      return 'float';
    case 10:
    case 14:
      return 'date';
    case 12:
      return 'timestamp';
    case 7:
      return 'timestamptz'; // TIMESTAMP: an instant, printed in the session zone (UTC here)
    case 245:
      return 'json';
    case 249:
    case 250:
    case 251:
    case 252:
    case 253:
    case 254:
      return charset === 63 ? 'bytes' : 'text';
    default:
      return 'text';
  }
}

/** A connection to a MySQL/MariaDB source through mysql2 (imported only when a MySQL source is used). */
export async function openMysql(cfg: SourceConfig): Promise<SourceClient> {
  const mysql: Mysql = (await lazyImport<{ default: Mysql }>('mysql2')).default;
  const settings = {
    host: cfg.host,
    port: cfg.port,
    user: cfg.username,
    password: cfg.password ?? '',
    database: cfg.database,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    connectTimeout: 10_000,
    charset: 'utf8mb4',
  } as const;
  let conn: Conn | undefined;
  let mariadb = false;
  const connect = async (): Promise<Conn> => {
    if (conn) return conn;
    const c = mysql.createConnection(settings);
    await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(describeMysqlError(err)) : resolve())));
    c.on('error', () => {}); // a dropped idle connection is reported by the next query
    const [rows] = await c.promise().query('select version() as v');
    mariadb = /mariadb/i.test(String((rows as { v: string }[])[0]?.v));
    await c.promise().query(`set time_zone = '+00:00'`);
    conn = c;
    return c;
  };
  return {
    dialect: 'mysql',
    async ping() {
      const c = await connect();
      const t0 = performance.now();
      await c.promise().query('select 1');
      return performance.now() - t0;
    },
    async stream(text: string, params: unknown[], opts: RunOptions, onBatch: OnBatch) {
      const c = await connect();
      const p = c.promise();
      const secs = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
      await p.query(
        mariadb
          ? `set session max_statement_time = ${secs}`
          : `set session max_execution_time = ${Math.max(1, Math.floor(opts.timeoutMs))}`,
      );
      let killed = false;
      const onAbort = () => {
        killed = true;
        void killQuery(mysql, settings, c.threadId);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      await p.query('start transaction read only');
      try {
        opts.signal?.throwIfAborted();
        const q = c.query({ sql: text, values: params, rowsAsArray: true });
        let columns: Column[] = [];
        q.on('fields', (fields: { name: string; columnType: number; characterSet?: number }[]) => {
          columns = fields.map((f) => ({ name: f.name, kind: mysqlKind(f.columnType, f.characterSet) }));
        });
        let batch: unknown[][] = [];
        let sent = false;
        for await (const row of q.stream({ highWaterMark: opts.batchSize })) {
          batch.push(row as unknown[]);
          if (batch.length >= opts.batchSize) {
            const b = batch;
            batch = [];
            sent = true;
            await onBatch(columns, b);
          }
        }
        if (batch.length > 0 || !sent) await onBatch(columns, batch);
      } catch (err) {
        if (killed || opts.signal?.aborted)
          throw new SourceError('the query was cancelled on the database server', 'cancelled', { cause: err });
        throw describeMysqlError(err);
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        await p.query('rollback').catch(() => {});
      }
    },
    async close() {
      const c = conn;
      conn = undefined;
      if (c)
        await c
          .promise()
          .end()
          .catch(() => c.destroy());
    },
  };
}

async function killQuery(mysql: Mysql, settings: object, threadId: number | null) {
  if (!threadId) return;
  const k = mysql.createConnection(settings);
  try {
    await k.promise().query(`kill query ${Number(threadId)}`);
  } catch {
    /* the query ended meanwhile */
  } finally {
    k.destroy();
  }
}

/** A mysql2 error in plain words. */
export function describeMysqlError(err: unknown): SourceError {
  const e = err as { code?: string; errno?: number; message?: string };
  const msg = e.message ?? String(err);
  if (e.errno === 1969 || e.errno === 3024 || e.code === 'ER_STATEMENT_TIMEOUT' || e.code === 'ER_QUERY_TIMEOUT') {
    return new SourceError('the query ran past its statement timeout and was stopped by the server', 'timeout', { cause: err });
  }
  if (e.errno === 1317) return new SourceError('the query was cancelled on the database server', 'cancelled', { cause: err });
  if (e.errno === 1792)
    return new SourceError(`the export runs read-only and the statement tried to write: ${msg}`, 'read_only', { cause: err });
  if (e.errno === 1045) return new SourceError(`login refused: ${msg}`, 'auth', { cause: err });
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || e.errno === 1049) {
    return new SourceError(`cannot connect: ${msg}`, 'unreachable', { cause: err });
  }
  return err instanceof SourceError ? err : new SourceError(msg, 'sql', { cause: err });
}
