import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { freePort, runScript } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';
import { createMariaDb, createPgSource, taskFile, utc } from './fixtures';

// Exports end to end: sources and tasks made with the CLI, runs through the signed chat callback,
// the file downloaded through its link and read back with exceljs.
const PG_PASSWORD = 'pg-Pa55-秘密-do-not-leak';
let t: TestDb;
let pgsrc: Awaited<ReturnType<typeof createPgSource>>;
let maria: Awaited<ReturnType<typeof createMariaDb>>;
let server: RunningServer;
let boss: LocalChat;
let dataDir: string;
let cliEnv: Record<string, string>;
const cli = async (...args: string[]) => runScript('src/cli.ts', args, cliEnv, 60_000);
const jobIdIn = (text: string) => Number(/#(\d+)/.exec(text)?.[1]);
const linkIn = (text: string) => /\((http:\/\/[^)\s]+\/files\/[^)\s]+)\)/.exec(text)?.[1];

const COLS = 'id, name, amount, big, f, ok, d, ts, tz, note';
const task = (name: string, source: string, extra: Record<string, unknown> = {}) => ({
  name,
  source,
  sql: `select ${COLS} from t order by id`,
  timezone: 'Asia/Shanghai',
  fileName: '导出_{task}_{date}',
  sheet: '数据',
  ...extra,
});

beforeAll(async () => {
  [t, pgsrc, maria] = await Promise.all([createTestDb('postgres'), createPgSource(), createMariaDb()]);
  dataDir = mkdtempSync(path.join(tmpdir(), 'chatops-exp-'));
  const port = await freePort();
  server = await testServer(t.db, {
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ADMIN_STAFF_IDS: 'boss',
    PROGRESS_INTERVAL_MS: '0',
    JOB_POLL_INTERVAL_MS: '100',
  });
  boss = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'boss' });
  cliEnv = {
    DATABASE_URL: t.url as string,
    DATA_DIR: dataDir,
    DINGTALK_CLIENT_SECRET: TEST_SECRET,
    SRC_PW: PG_PASSWORD,
    PORT: String(port),
  };
  const made = await cli(
    'source',
    'create',
    'pgsrc',
    '--kind',
    'postgres',
    '--host',
    '127.0.0.1',
    '--database',
    pgsrc.name,
    '--user',
    'postgres',
    '--password-env',
    'SRC_PW',
  );
  expect(made.stderr).toBe('');
  expect(made.stdout).toContain('created');
  const m = await cli('source', 'create', 'maria', '--url', `mysql://root@127.0.0.1:3306/${maria.name}`);
  expect(m.stdout).toContain('created');
  const dir = mkdtempSync(path.join(tmpdir(), 'chatops-tasks-'));
  for (const spec of [
    task('pg-types', 'pgsrc'),
    task('maria-types', 'maria'),
    task('pg-find', 'pgsrc', {
      sql: 'select id, name from t where name = :name or d = :day',
      params: [
        { name: 'name', type: 'string' },
        { name: 'day', type: 'date', default: 'yesterday' },
      ],
    }),
    task('maria-find', 'maria', {
      sql: 'select id, name from t where name = :name',
      params: [{ name: 'name', type: 'string', required: true }],
    }),
    task('pg-write', 'pgsrc', { sql: 'with d as (delete from victim returning id) select * from d' }),
    task('maria-write', 'maria', { sql: 'delete from victim' }),
    task('pg-slow', 'pgsrc', { sql: 'select pg_sleep(3) as slept', timeoutMs: 300 }),
    task('maria-slow', 'maria', { sql: 'select sum(a.seq * b.seq) as n from seq_1_to_100000 a, seq_1_to_100000 b', timeoutMs: 1000 }),
    task('pg-long', 'pgsrc', { sql: 'select 1 as one from pg_sleep(60)', timeoutMs: 120_000 }),
    task('admins-only', 'pgsrc', { sql: 'select 1 as one', allowed: ['admin'] }),
    task('pg-many', 'pgsrc', { sql: 'select g as n, md5(g::text) as h from generate_series(1, 40000) g order by g' }),
  ]) {
    const r = await cli('task', 'create', '--file', taskFile(dir, spec));
    expect(r.stdout, r.stderr).toContain('created');
  }
}, 180_000);

afterAll(async () => {
  await boss?.close();
  await server?.stop();
  await Promise.allSettled([t?.drop(), pgsrc?.drop(), maria?.drop()]);
});

async function runInChat(text: string) {
  const from = boss.replies.length;
  await boss.send(text);
  // The acceptance itself: a late final message of an earlier job also names a #id.
  const ack = await boss.waitFor((r) => /已受理导出任务 #\d+/.test(r.text), 15_000, from);
  const id = jobIdIn(ack.text);
  return { id, from, ack };
}

async function download(url: string) {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function readXlsx(buf: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as never);
  return wb;
}

const values = (ws: ExcelJS.Worksheet, row: number) => (ws.getRow(row).values as unknown[]).slice(1);

describe('data sources', () => {
  it('stores the password encrypted: not in the database, the CLI output or chat', async () => {
    const rows = await t.db.query<{ password_enc: string; key_id: string }>(
      `select password_enc, key_id from data_sources where name = 'pgsrc'`,
    );
    expect(rows[0]?.password_enc).toMatch(/^v1\./);
    const dump = JSON.stringify(await t.db.query(`select * from data_sources`));
    expect(dump).not.toContain(PG_PASSWORD);
    expect(dump).not.toContain(Buffer.from(PG_PASSWORD).toString('base64'));
    const list = await cli('source', 'list');
    expect(list.stdout).toContain('pgsrc\tpostgres');
    expect(list.stdout).toContain('password set (encrypted)');
    expect(list.stdout).not.toContain(PG_PASSWORD);
    const from = boss.replies.length;
    await boss.send('/source list');
    const reply = await boss.waitFor((r) => r.text.includes('数据源'), 10_000, from);
    expect(reply.text).toContain('**app**');
    expect(reply.text).toContain('**maria**');
    expect(reply.text).not.toMatch(/-@|:0\//); // no made-up user, host or port
    expect(reply.text).not.toContain(PG_PASSWORD);
  });

  it('/source test reports latency or the driver error in plain words', async () => {
    for (const name of ['pgsrc', 'maria', 'app']) {
      const from = boss.replies.length;
      await boss.send(`/source test ${name}`);
      const r = await boss.waitFor(() => true, 15_000, from);
      expect(r.text).toMatch(new RegExp(`数据源 ${name} 连接正常：select 1 用时 [\\d.]+ ms`));
    }
    await cli('source', 'create', 'nowhere', '--kind', 'mysql', '--host', '127.0.0.1', '--port', '1', '--database', 'x', '--user', 'u');
    const from = boss.replies.length;
    await boss.send('/source test nowhere');
    const r = await boss.waitFor(() => true, 15_000, from);
    expect(r.text).toContain('数据源 nowhere 连接失败：cannot connect');
    const bad = await cli('source', 'create', 'bad', '--kind', 'oracle', '--host', 'h', '--database', 'd', '--user', 'u');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('kind: expected postgres, mysql or mariadb');
    expect((await cli('source', 'rm', 'nowhere')).stdout).toContain('removed');
  });

  it('a changed SECRETS_KEY is a clear start-up error', async () => {
    const other = await testServer(t.db, { DATA_DIR: dataDir, SECRETS_KEY: Buffer.alloc(32, 9).toString('base64') }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (err: Error) => err,
    );
    expect(other?.message).toMatch(
      /^stored credentials were encrypted with key \S+, but the configured key is \S+\. Set SECRETS_KEY to the original key/,
    );
    expect(other?.message).toMatch(/\(sources: [^)]*pgsrc\)$/);
  });
});

describe.each([
  ['pg-types', 'Postgres'],
  ['maria-types', 'MariaDB'],
])('export %s (%s) through chat', (taskName) => {
  it('acks, finishes with a link, and the .xlsx holds every value with its type', async () => {
    const { id, from } = await runInChat(`/export run ${taskName}`);
    expect(id).toBeGreaterThan(0);
    const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('已完成'), 30_000, from);
    expect(final.text).toContain('**数据行数**: 2');
    // The default template says the expiry and the duration once each (not again in lines of their own).
    expect(final.text).toMatch(/链接 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} 前有效，请及时下载/);
    expect(final.text.match(/前有效/g)).toHaveLength(1);
    expect(final.text).toMatch(/\*\*执行耗时\*\*: [\d.]+(毫秒|秒)/);
    expect(final.text).not.toContain('用时');
    const url = linkIn(final.text) as string;
    expect(url).toBeTruthy();
    const { res, body } = await download(url);
    const cd = res.headers.get('content-disposition') ?? '';
    expect(decodeURIComponent(/filename\*=UTF-8''([^;]+)/.exec(cd)?.[1] ?? '')).toMatch(
      new RegExp(`^导出_${taskName}_\\d{4}-\\d{2}-\\d{2}\\.xlsx$`),
    );
    const wb = await readXlsx(body);
    const ws = wb.getWorksheet('数据') as ExcelJS.Worksheet;
    expect(ws).toBeTruthy();
    expect(values(ws, 1)).toEqual(COLS.split(', '));
    expect(ws.getRow(1).font?.bold).toBe(true);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    const isMaria = taskName.startsWith('maria');
    const r1 = (ws.getRow(2).values as unknown[]).slice(1);
    const r2 = (ws.getRow(3).values as unknown[]).slice(1);
    // 64-bit and decimal values that a double would round stay text with every digit.
    expect(r1).toEqual([
      1,
      '中文名称',
      '12345678901234567890.1234567890',
      '9007199254740993',
      1.5,
      isMaria ? 1 : true,
      utc(2024, 2, 29),
      utc(2024, 3, 1, 12, 34, 56),
      utc(2024, 3, 1, 8, 30, 0), // 00:30 UTC shown in Asia/Shanghai
    ]);
    expect(ws.getRow(2).getCell(10).value).toBeNull(); // NULL: an empty cell (trailing, so not in .values)
    expect(r2).toEqual([2, 'plain', 12.5, 42, -0.25, isMaria ? 0 : false, utc(2024, 1, 1), utc(2024, 1, 1), utc(2024, 1, 1), 'x']);
    expect(ws.getCell('G2').numFmt).toBe('yyyy-mm-dd');
    expect(ws.getCell('I2').numFmt).toBe('yyyy-mm-dd hh:mm:ss');
    expect(ws.getColumn(2).width).toBeGreaterThanOrEqual(10);
  });
});

describe('progress', () => {
  it('/export run → progress by rows → final message → the link downloads every row', async () => {
    const { id, from } = await runInChat('/export run pg-many');
    const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('已完成'), 60_000, from);
    const progress = boss.replies
      .slice(from, boss.replies.indexOf(final))
      .filter((r) => r.text.includes(`#${id}`) && /已导出 [\d,]+ 行/.test(r.text));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const counts = progress.map((p) => Number((/已导出 ([\d,]+) 行/.exec(p.text)?.[1] ?? '0').replace(/,/g, '')));
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1] as number);
    expect(final.text).toContain('**数据行数**: 40,000');
    const { body } = await download(linkIn(final.text) as string);
    const ws = (await readXlsx(body)).worksheets[0] as ExcelJS.Worksheet;
    expect(ws.rowCount).toBe(40_001);
    expect(values(ws, 40_001)).toEqual([40_000, createHash('md5').update('40000').digest('hex')]);
  });
});

describe('safety', () => {
  it('binds parameters as data: an injection attempt matches nothing and drops nothing', async () => {
    for (const name of ['pg-find', 'maria-find']) {
      const { id, from } = await runInChat(`/export run ${name} name="2024-01-01'; drop table victim; --"`);
      await waitForStatus(t.db, id, ['succeeded'], 30_000);
      const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('已完成'), 15_000, from);
      expect(final.text).toContain('**数据行数**: 0');
    }
    const sql = postgres(pgsrc.url, { max: 1 });
    expect((await sql`select count(*)::int as n from victim`)[0]?.n).toBe(1);
    await sql.end();
    const from = boss.replies.length;
    await boss.send(`/export run pg-find name=x day="2024-01-01'; drop table victim; --"`);
    const reply = await boss.waitFor(() => true, 10_000, from);
    expect(reply.text).toContain('参数 day 不对');
    expect(reply.text).toContain('YYYY-MM-DD');
  });

  it('a write statement fails in the read-only transaction', async () => {
    for (const name of ['pg-write', 'maria-write']) {
      const { id, from } = await runInChat(`/export run ${name}`);
      const job = await waitForStatus(t.db, id, ['failed'], 30_000);
      expect(job.error).toContain('read-only');
      expect(job.attempts).toBe(1); // not retried: retrying cannot help
      const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('失败'), 15_000, from);
      expect(final.text).toContain('read-only');
    }
    const sql = postgres(pgsrc.url, { max: 1 });
    expect((await sql`select count(*)::int as n from victim`)[0]?.n).toBe(1);
    await sql.end();
  });

  it('a slow query hits its statement timeout', async () => {
    for (const name of ['pg-slow', 'maria-slow']) {
      const { id } = await runInChat(`/export run ${name}`);
      const job = await waitForStatus(t.db, id, ['failed'], 30_000);
      expect(job.error).toContain('statement timeout');
    }
  });

  it('cancel during a long query ends it on the database server', async () => {
    const { id, from } = await runInChat('/export run pg-long');
    const sql = postgres(pgsrc.url, { max: 1 });
    const running = async () =>
      Number(
        (
          await sql`select count(*)::int as n from pg_stat_activity where application_name = 'chatops-export' and query like '%pg_sleep(60)%' and state = 'active'`
        )[0]?.n,
      );
    const until = async (cond: () => Promise<boolean>, ms: number) => {
      const t0 = Date.now();
      while (!(await cond())) {
        if (Date.now() - t0 > ms) throw new Error('condition not met');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(async () => (await running()) === 1, 20_000);
    await boss.send(`/cancel ${id}`);
    const ended = await waitForStatus(t.db, id, ['cancelled', 'failed'], 20_000);
    expect(ended.status, String(ended.error)).toBe('cancelled');
    await until(async () => (await running()) === 0, 5_000);
    await sql.end();
    await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('已取消'), 15_000, from);
  });
});

describe('who may run what; the CLI runs a task', () => {
  it('a task limited to admins refuses an operator, with a reply saying who may', async () => {
    const alice = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', conversationId: 'cid-alice' });
    try {
      await alice.send('/export run admins-only');
      const r = await alice.waitFor(() => true, 10_000);
      expect(r.text).toContain('你没有运行导出任务“admins-only”的权限（允许：admin）');
      expect(
        Number((await t.db.query<{ n: number }>(`select count(*)::int as n from jobs where payload->>'task' = 'admins-only'`))[0]?.n),
      ).toBe(0);
    } finally {
      await alice.close();
    }
  });

  it('npm run cli -- task run prints the row count and the link', async () => {
    const r = await cli('task', 'run', 'pg-find', 'name=plain');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^job \d+ \(name=plain, day=\d{4}-\d{2}-\d{2}\): 1 rows, \d+ bytes → 导出_pg-find_/m);
    const url = r.stdout.trim().split('\n').at(-1) as string;
    const { body } = await download(url);
    const ws = (await readXlsx(body)).worksheets[0] as ExcelJS.Worksheet;
    expect(values(ws, 2)).toEqual([2, 'plain']);
    const bad = await cli('task', 'run', 'pg-find', 'day=2024-13-01');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('参数 day 不对');
  });
});

describe('preview, history, example task, webhooks', () => {
  it('/export preview shows the first rows and the count, no file', async () => {
    const files = Number((await t.db.query<{ n: number }>(`select count(*)::int as n from files`))[0]?.n);
    const from = boss.replies.length;
    await boss.send('/export preview pg-types');
    const r = await boss.waitFor(() => true, 15_000, from);
    expect(r.text).toContain('共 2 行');
    expect(r.text).toContain('| id | name | amount |');
    expect(r.text).toContain('| 1 | 中文名称 | 12345678901234567890.1234567890 | 9007199254740993 |');
    expect(Number((await t.db.query<{ n: number }>(`select count(*)::int as n from files`))[0]?.n)).toBe(files);
  });

  it('the shipped example task over app makes a file on first try', async () => {
    const { id, from } = await runInChat('/export run jobs-daily');
    const final = await boss.waitFor((r) => r.text.includes(`#${id}`) && r.text.includes('已完成'), 30_000, from);
    const { body } = await download(linkIn(final.text) as string);
    const ws = (await readXlsx(body)).getWorksheet('任务统计') as ExcelJS.Worksheet;
    expect(values(ws, 1)).toEqual(['日期', '类型', '结果', '任务数', '平均用时(秒)', '最早创建', '最晚完成']);
    expect(ws.rowCount).toBeGreaterThan(1); // this run's earlier exports are in the jobs table
  });

  it('/export history lists runs with parameters, rows and a live link', async () => {
    const from = boss.replies.length;
    await boss.send('/export history pg-find');
    const r = await boss.waitFor(() => true, 10_000, from);
    expect(r.text).toContain('pg-find');
    expect(r.text).toContain('name=2024-01-01');
    expect(r.text).toMatch(/0 行/);
    expect(r.text).toMatch(/\[导出_pg-find_[^\]]+\.xlsx\]\(http/);
  });

  it('admin webhooks create a source and a task and run it; responses carry no password', async () => {
    const token = (await cli('token', 'create', 'exp-admin', '--role', 'admin')).stdout.trim();
    const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const base = server.url;
    const bad = await fetch(`${base}/hooks/sources`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ name: 'x', kind: 'pg', host: 'h', database: 'd', user: 'u' }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('kind');
    const made = await fetch(`${base}/hooks/sources`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        name: 'pg2',
        kind: 'postgres',
        host: '127.0.0.1',
        database: pgsrc.name,
        user: 'postgres',
        password: PG_PASSWORD,
      }),
    });
    expect(made.status).toBe(201);
    const listed = await (await fetch(`${base}/hooks/sources`, { headers: h })).text();
    expect(listed).toContain('pg2');
    expect(listed).not.toContain(PG_PASSWORD);
    const test = (await (await fetch(`${base}/hooks/sources/pg2/test`, { method: 'POST', headers: h })).json()) as { ok: boolean };
    expect(test.ok).toBe(true);
    const tk = await fetch(`${base}/hooks/tasks`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        name: 'pg2-count',
        source: 'pg2',
        sql: 'select count(*) as n from t where d >= :since',
        params: [{ name: 'since', type: 'date', default: 'last_year_start' }],
        format: 'csv',
      }),
    });
    expect(tk.status).toBe(201);
    const run = await fetch(`${base}/hooks/tasks/pg2-count/run`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ params: { since: '2024-01-01' } }),
    });
    expect(run.status).toBe(202);
    const { jobId } = (await run.json()) as { jobId: number };
    const job = await waitForStatus(t.db, jobId, ['succeeded'], 30_000);
    const result = job.result as { rows: number; file: { url: string } };
    expect(result.rows).toBe(1);
    const { body } = await download(result.file.url);
    expect(body.toString('utf8')).toBe('\ufeffn\r\n2\r\n');
  });

  it('admin webhooks refuse bad input in the configured language, naming the field, and change nothing', async () => {
    const token = (await cli('token', 'create', 'exp-admin-2', '--role', 'admin')).stdout.trim();
    const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const call = async (method: string, path: string, body?: string) => {
      const r = await fetch(`${server.url}${path}`, { method, headers: h, body });
      return { status: r.status, ...((await r.json()) as { ok: boolean; error?: { code: string; message: string; field?: string } }) };
    };
    const before = await t.db.query<{ n: number }>(
      'select (select count(*) from data_sources)::int + (select count(*) from export_tasks)::int as n',
    );
    const source = { name: 'pg3', kind: 'postgres', host: '127.0.0.1', database: pgsrc.name, user: 'postgres' };
    const cases: [string, string, string | undefined, number, string | undefined, RegExp][] = [
      ['POST', '/hooks/sources', '{"name":', 400, undefined, /JSON/],
      ['POST', '/hooks/sources', '[1]', 400, undefined, /JSON 对象/],
      ['POST', '/hooks/sources', JSON.stringify({ ...source, kind: 'oracle' }), 400, 'kind', /postgres, mysql, mariadb/],
      ['POST', '/hooks/sources', JSON.stringify({ ...source, pasword: 'x' }), 400, 'pasword', /password/],
      ['POST', '/hooks/sources', JSON.stringify({ ...source, name: 'app' }), 400, 'name', /内置数据源/],
      [
        'POST',
        '/hooks/sources',
        JSON.stringify({ ...source, name: 'pgsrc' }),
        409,
        undefined,
        /已有名为“pgsrc”的数据源.*PUT \/hooks\/sources\/pgsrc/,
      ],
      ['DELETE', '/hooks/sources/pgsrc', undefined, 409, undefined, /仍被导出任务使用：.*pg-find/],
      ['DELETE', '/hooks/sources/nope', undefined, 404, undefined, /没有名为“nope”的数据源。可用的：.*pgsrc/],
      ['POST', '/hooks/tasks', JSON.stringify({ name: 'x1', source: 'nope', sql: 'select 1' }), 400, 'source', /没有名为“nope”的数据源/],
      ['POST', '/hooks/tasks', JSON.stringify({ name: 'X 1', source: 'pgsrc', sql: 'select 1' }), 400, 'name', /例如/],
      ['GET', '/hooks/tasks/nope', undefined, 404, undefined, /没有名为“nope”的导出任务。现有任务：.*pg-find/],
      ['POST', '/hooks/tasks/pg-find/run', '{"params":', 400, undefined, /JSON/],
      ['POST', '/hooks/tasks/pg-find/run', '{"params":[1]}', 400, 'params', /JSON 对象/],
      ['POST', '/hooks/tasks/pg-find/run', '{"parms":{}}', 400, 'parms', /params/],
    ];
    for (const [method, path, body, status, field, message] of cases) {
      const r = await call(method, path, body);
      expect({ method, path, body, status: r.status, field: r.error?.field }).toEqual({ method, path, body, status, field });
      expect(r.error?.message).toMatch(message);
      expect(r.error?.message).not.toMatch(/Invalid|expected|Unrecognized/); // never zod's English
    }
    const after = await t.db.query<{ n: number }>(
      'select (select count(*) from data_sources)::int + (select count(*) from export_tasks)::int as n',
    );
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('an export started by webhook says where its result will be, not that it will be sent in chat', async () => {
    const token = (await cli('token', 'create', 'exp-op', '--role', 'operator')).stdout.trim();
    const r = await fetch(`${server.url}/hooks/commands/export/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'pg-find', name: '2024-01-01' }),
    });
    const out = (await r.json()) as { jobId: number; statusUrl: string; messages: { text: string }[] };
    expect(r.status).toBe(200);
    expect(out.messages[0]?.text).toContain(`#${out.jobId}`);
    expect(out.messages[0]?.text).toContain(`完成后在 ${out.statusUrl} 查看状态和下载链接`);
    expect(out.messages[0]?.text).not.toContain('发给你');
    await waitForStatus(t.db, out.jobId, ['succeeded'], 30_000);
  });
});
