import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { pgUrl, withAdmin } from '../helpers/pg';

/** The local MariaDB the tests use (root, no password). */
export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' };

/** A fresh MariaDB database with the typed test table `t` (and `victim` for injection tests). */
export async function createMariaDb(): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `exp_${randomBytes(5).toString('hex')}`;
  const c = await mysql.createConnection({ ...MYSQL, multipleStatements: true, timezone: 'Z' });
  try {
    await c.query(`create database ${name} character set utf8mb4`);
    await c.query(`use ${name}`);
    await c.query(`set time_zone = '+00:00'`);
    await c.query(`create table t (id bigint primary key, name varchar(50), amount decimal(30,10), big bigint, f double, ok tinyint(1),
      d date, ts datetime, tz timestamp null, note text) character set utf8mb4`);
    await c.query(`insert into t values
      (1, '中文名称', 12345678901234567890.1234567890, 9007199254740993, 1.5, 1, '2024-02-29', '2024-03-01 12:34:56', '2024-03-01 00:30:00', null),
      (2, 'plain', 12.5, 42, -0.25, 0, '2024-01-01', '2024-01-01 00:00:00', '2023-12-31 16:00:00', 'x')`);
    await c.query(`create table victim (id int)`);
    await c.query(`insert into victim values (1)`);
  } finally {
    await c.end();
  }
  return {
    name,
    async drop() {
      const d = await mysql.createConnection(MYSQL);
      await d.query(`drop database if exists ${name}`);
      await d.end();
    },
  };
}

/** A fresh Postgres database with the typed test table `t` and `victim`. */
export async function createPgSource(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `exp_src_${randomBytes(5).toString('hex')}`;
  await withAdmin((sql) => sql.unsafe(`create database ${name}`));
  const sql = postgres(pgUrl(name), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create table t (id int8 primary key, name text, amount numeric(30,10), big int8, f float8, ok bool,
      d date, ts timestamp, tz timestamptz, note text)`);
    await sql.unsafe(`insert into t values
      (1, '中文名称', 12345678901234567890.1234567890, 9007199254740993, 1.5, true, '2024-02-29', '2024-03-01 12:34:56', '2024-03-01 00:30:00+00', null),
      (2, 'plain', 12.5, 42, -0.25, false, '2024-01-01', '2024-01-01 00:00:00', '2023-12-31 16:00:00+00', 'x')`);
    await sql.unsafe(`create table victim (id int); insert into victim values (1)`);
  } finally {
    await sql.end();
  }
  return { name, url: pgUrl(name), drop: () => withAdmin((s) => s.unsafe(`drop database if exists ${name} with (force)`)).then(() => {}) };
}

/** Write a task definition file for `npm run cli -- task create --file`. */
export function taskFile(dir: string, spec: Record<string, unknown>): string {
  const f = path.join(dir, `${String(spec.name)}.json`);
  writeFileSync(f, JSON.stringify(spec));
  return f;
}

/** The rows of `t` as the export must show them (task zone Asia/Shanghai). */
export const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0) => new Date(Date.UTC(y, m - 1, d, h, mi, s));
