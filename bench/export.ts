import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { startFlags } from './child';

// `npm run bench -- export`: 1,000,000 rows × 10 mixed columns from the local Postgres through the
// whole path (chat command → job → cursor → typed cells → streaming .xlsx → file store → link), the
// same at 250,000 rows, and a bare exceljs WorkbookWriter of the same rows (as exceljs's docs use it:
// every row committed, no backpressure). Each run is its own process so its peak RSS is its own.
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const SRC_DB = 'chatops_bench_export_src';
const BIG = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
const SMALL = Math.round(BIG / 4);
const round = (n: number, d = 1) => Number(n.toFixed(d));
const COLUMNS = `id, name, amount, qty, price, ok, d, ts, tz, note`;

/** The source table: 10 columns of every kind the exporter maps (int8, text, numeric, int, float, bool, date, timestamp, timestamptz, nullable text). */
async function prepareSource(rows: number) {
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  const exists = (await admin`select 1 from pg_database where datname = ${SRC_DB}`).length > 0;
  if (!exists) await admin.unsafe(`create database ${SRC_DB}`);
  await admin.end();
  const sql = postgres(`${PG}/${SRC_DB}`, { max: 1, onnotice: () => {} });
  const [have] = await sql`select count(*)::int as n from pg_tables where tablename = 'big'`;
  const count = have?.n ? Number((await sql`select count(*)::int as n from big`)[0]?.n) : 0;
  if (count !== rows) {
    await sql.unsafe('drop table if exists big');
    await sql.unsafe(`create table big as
      select g::int8 as id, '商品-' || g as name, (g % 100000) / 100.0::numeric(12,2) as amount, (g % 1000)::int4 as qty,
             g * 0.37::float8 as price, g % 2 = 0 as ok, date '2024-01-01' + (g % 365) as d,
             timestamp '2024-01-01 00:00:00' + g * interval '1 second' as ts, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' as tz,
             case when g % 7 = 0 then null else '备注 ' || md5(g::text) end as note
        from generate_series(1, ${rows}) g`);
    await sql.unsafe('alter table big add primary key (id)');
  }
  await sql.end();
}

/** Runs in a child: the whole path through a real instance and the signed chat callback. */
async function workerWhole(rows: number) {
  const { startServer } = await import('../src/server');
  const { loadConfig } = await import('../src/config');
  const { createLocalChat } = await import('../tools/local-chat');
  const { saveSource } = await import('../src/exports/sources');
  const { saveTask } = await import('../src/exports/tasks');
  const botDb = `chatops_bench_export_bot_${process.pid}`;
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${botDb}`);
  await admin.end();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'chatops-bench-export-'));
  const config = loadConfig({
    DATABASE_URL: `${PG}/${botDb}`,
    DATA_DIR: dataDir,
    DINGTALK_CLIENT_SECRET: 'bench-secret',
    DINGTALK_STREAM: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    PROGRESS_INTERVAL_MS: '2000',
    ADMIN_STAFF_IDS: 'bench',
    RATE_LIMIT_PER_MINUTE: '10000',
    DINGTALK_REPLY_HOSTS: '127.0.0.1',
  });
  const server = await startServer(config, pino({ level: 'silent' }));
  const chat = await createLocalChat({ url: server.url, secret: 'bench-secret', staffId: 'bench' });
  const u = new URL(PG);
  await saveSource(
    server.deps,
    {
      name: 'bench',
      kind: 'postgres',
      host: u.hostname,
      port: Number(u.port || 5432),
      database: SRC_DB,
      user: decodeURIComponent(u.username) || 'postgres',
    },
    'bench',
  );
  await saveTask(
    server.deps,
    {
      name: 'big',
      source: 'bench',
      sql: `select ${COLUMNS} from big where id <= :n order by id`,
      params: [{ name: 'n', type: 'int', required: true }],
      rowLimit: 5_000_000,
      timeoutMs: 3_600_000,
      fileName: 'big_{n}',
    },
    'bench',
  );
  const from = chat.replies.length;
  const t0 = performance.now();
  await chat.send(`/export run big n=${rows}`);
  const ack = await chat.waitFor((r) => /已受理导出任务 #\d+/.test(r.text), 30_000, from);
  const id = Number(/#(\d+)/.exec(ack.text)?.[1]);
  // While it runs: /ping every 250 ms, timed from the signed callback to the reply.
  const latencies: number[] = [];
  let done = false;
  const pinger = (async () => {
    while (!done) {
      const f = chat.replies.length;
      const s = performance.now();
      await chat.send('/ping');
      await chat.waitFor((r) => r.text.includes('pong'), 30_000, f);
      latencies.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const final = await chat.waitFor((r) => r.text.includes(`#${id}`) && /已完成|失败/.test(r.text), 3_600_000, from);
  const wallMs = performance.now() - t0;
  done = true;
  await pinger;
  const [job] = await server.deps.db.query<{ result: { rows: number; size: number; durationMs: number } }>(
    `select result from jobs where id = $1`,
    [id],
  );
  await chat.close();
  await server.stop();
  const a = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await a.unsafe(`drop database if exists ${botDb} with (force)`);
  await a.end();
  latencies.sort((x, y) => x - y);
  const p = (q: number) => round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN);
  return {
    ok: final.text.includes('已完成'),
    rows: job?.result.rows,
    fileBytes: job?.result.size,
    exportMs: job?.result.durationMs,
    wallMs: round(wallMs),
    rowsPerSec: Math.round((job?.result.rows ?? 0) / ((job?.result.durationMs ?? 1) / 1000)),
    chatPings: latencies.length,
    chatLatencyMs: { p50: p(0.5), p99: p(0.99), max: round(latencies[latencies.length - 1] ?? Number.NaN) },
  };
}

/** Runs in a child: exceljs's WorkbookWriter fed the same rows straight from a cursor, every row committed, no backpressure. */
async function workerBare(rows: number) {
  const ExcelJS = (await import('exceljs')).default;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'chatops-bench-bare-')), 'bare.xlsx');
  const sql = postgres(`${PG}/${SRC_DB}`, { max: 1, onnotice: () => {} });
  const t0 = performance.now();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useStyles: true, useSharedStrings: false });
  const ws = wb.addWorksheet('Sheet1');
  ws.addRow(COLUMNS.split(', ')).commit();
  let n = 0;
  await sql.begin('read only', async (tx) => {
    for await (const batch of tx.unsafe(`select ${COLUMNS} from big where id <= $1 order by id`, [rows]).values().cursor(2000)) {
      for (const r of batch) {
        ws.addRow(r).commit();
        n += 1;
      }
    }
  });
  ws.commit();
  await wb.commit();
  const ms = performance.now() - t0;
  await sql.end();
  return { rows: n, fileBytes: statSync(file).size, ms: round(ms), rowsPerSec: Math.round(n / (ms / 1000)) };
}

/**
 * Each measurement runs the compiled bench (dist/bench/export.js, built by `npm run build` like the
 * bot itself) with `npm start`'s Node flags, so its RSS is what a running bot would add, not tsx's.
 */
const ROOT = path.join(import.meta.dirname, '..');
const COMPILED = path.join(ROOT, 'dist/bench/export.js');
const NODE_FLAGS = startFlags();

function child(mode: string, rows: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...NODE_FLAGS, COMPILED, mode, String(rows)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_EXPORT_CHILD: '1' },
    });
    let out = '';
    p.stdout.on('data', (c) => (out += c));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${mode} ${rows} exited ${code}: ${out}`))));
  });
}

/** Entry for `npm run bench -- export`. */
export async function run() {
  execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { stdio: 'inherit' });
  await prepareSource(BIG);
  const baseline = await child('whole', 1);
  const whole = await child('whole', BIG);
  const wholeSmall = await child('whole', SMALL);
  const bare = await child('bare', BIG);
  const bareSmall = await child('bare', SMALL);
  const mb = (r: Record<string, unknown>) => Number(r.peakRssMb);
  return {
    rows: BIG,
    columns: 10,
    baselineOneRow: { peakRssMb: baseline.peakRssMb, wallMs: baseline.wallMs },
    wholePath: { [BIG]: whole, [SMALL]: wholeSmall, rssRatio: round(mb(whole) / mb(wholeSmall), 2) },
    bareExceljs: { [BIG]: bare, [SMALL]: bareSmall, rssRatio: round(mb(bare) / mb(bareSmall), 2) },
    targets: { rowsPerSec: '>= 50000', peakRssMb: '<= 200', rssRatio: '<= 1.2', chatP99Ms: '<= 200' },
  };
}

if (process.env.BENCH_EXPORT_CHILD === '1' && import.meta.filename === process.argv[1]) {
  const [mode, n] = process.argv.slice(2);
  // Where the memory is at its highest: V8's heap, and the memory outside it (zlib, buffers).
  const peak = { heapTotalMb: 0, heapUsedMb: 0, externalMb: 0, arrayBuffersMb: 0 };
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapTotalMb = Math.max(peak.heapTotalMb, round(m.heapTotal / 2 ** 20));
    peak.heapUsedMb = Math.max(peak.heapUsedMb, round(m.heapUsed / 2 ** 20));
    peak.externalMb = Math.max(peak.externalMb, round(m.external / 2 ** 20));
    peak.arrayBuffersMb = Math.max(peak.arrayBuffersMb, round(m.arrayBuffers / 2 ** 20));
  }, 100);
  const result = { ...(await (mode === 'bare' ? workerBare(Number(n)) : workerWhole(Number(n)))), peak };
  clearInterval(sample);
  // n = 1 measures the instance itself (server, job loop, chat round trip, exceljs loaded) with a one-row export.
  const peakRssMb = round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify({ ...result, peakRssMb }));
  process.exit(0);
}
