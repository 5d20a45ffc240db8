import postgres from 'postgres';

/** The local Postgres server the integration tests use (trust auth). */
export const PG_BASE_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** URL of a database on the test server. */
export function pgUrl(database: string): string {
  return `${PG_BASE_URL}/${database}`;
}

/** Run admin statements (CREATE/DROP DATABASE) against the `postgres` database. */
export async function withAdmin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(pgUrl('postgres'), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return await fn(sql);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
      throw new Error(
        `PostgreSQL is not reachable at ${PG_BASE_URL}; start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
      );
    }
    throw err;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
