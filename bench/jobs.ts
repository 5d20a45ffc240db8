import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import postgres from 'postgres';
import { createDb, type Database } from '../src/db/client';
import { migrateDb } from '../src/db/migrate';
import { enqueue, enqueueMany } from '../src/jobs/queue';
import { createRunner } from '../src/jobs/runner';
import { defineJob } from '../src/jobs/types';

// `npm run bench -- jobs`: the job loop with no-op jobs, on the local Postgres and on PGlite.
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DRAIN_N = Number(process.env.BENCH_DRAIN_N ?? 50_000);
const CONCURRENCY = 10;
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 790);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const log = pino({ level: 'silent' });

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (n: number, d = 1) => Number(n.toFixed(d));

async function openTarget(target: 'postgres' | 'pglite'): Promise<Database> {
  if (target === 'pglite') return createDb({});
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe('drop database if exists chatops_bench with (force)');
  await admin.unsafe('create database chatops_bench');
  await admin.end();
  return createDb({ url: `${PG}/chatops_bench`, poolSize: 10 });
}

async function benchTarget(target: 'postgres' | 'pglite') {
  const db = await openTarget(target);
  await migrateDb(db);
  const out: Record<string, unknown> = {};

  // Enqueue, one statement per job.
  const singleN = target === 'postgres' ? 5000 : 2000;
  const t0 = performance.now();
  for (let i = 0; i < singleN; i++) await enqueue(db, { kind: 'noop', payload: { i } });
  out.enqueueSinglePerSec = Math.round(singleN / ((performance.now() - t0) / 1000));

  // Enqueue in bulk (1,000 per statement), then drain with concurrency 10; three rounds, median reported.
  const bulk: number[] = [];
  const drains: number[] = [];
  let ran = 0;
  const noop = defineJob({
    kind: 'noop',
    concurrency: CONCURRENCY,
    prefetch: PREFETCH,
    run: async () => {
      ran += 1;
    },
  });
  for (let round = 0; round < ROUNDS; round++) {
    await db.query('delete from jobs');
    await db.query('vacuum analyze jobs');
    let t0 = performance.now();
    for (let i = 0; i < DRAIN_N; i += 1000) {
      await enqueueMany(
        db,
        Array.from({ length: Math.min(1000, DRAIN_N - i) }, (_, j) => ({ kind: 'noop', payload: { i: i + j } })),
      );
    }
    bulk.push(DRAIN_N / ((performance.now() - t0) / 1000));
    ran = 0;
    const runner = createRunner({ db, log, definitions: [noop], concurrency: CONCURRENCY, leaseMs: 60_000, pollIntervalMs: 1000 });
    t0 = performance.now();
    await runner.start();
    for (;;) {
      await sleep(ran >= DRAIN_N ? 2 : 20);
      if (ran < DRAIN_N) continue;
      const [r] = await db.query<{ n: number }>(`select count(*)::int as n from jobs where status <> 'succeeded'`);
      if (Number(r?.n) === 0) break;
    }
    drains.push(DRAIN_N / ((performance.now() - t0) / 1000));
    await runner.stop(5000);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  out.enqueueBulkPerSec = Math.round(median(bulk));
  out.drain = {
    jobs: DRAIN_N,
    concurrency: CONCURRENCY,
    prefetch: PREFETCH,
    jobsPerSec: Math.round(median(drains)),
    rounds: drains.map(Math.round),
  };
  const [hot] = await db.query<{ upd: number; hot: number }>(
    `select n_tup_upd::int as upd, n_tup_hot_upd::int as hot from pg_stat_user_tables where relname = 'jobs'`,
  );
  if (hot) out.hotUpdateShare = round(Number(hot.hot) / Math.max(1, Number(hot.upd)), 2);

  // Enqueue -> handler start latency with an idle runner (woken by NOTIFY).
  const starts = new Map<number, number>();
  const probe = defineJob<{ i: number }, void>({
    kind: 'probe',
    concurrency: 1,
    run: async (p) => void starts.set(p.i, performance.now()),
  });
  const idle = createRunner({ db, log, definitions: [probe], concurrency: 1, leaseMs: 60_000, pollIntervalMs: 60_000 });
  await idle.start();
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    await sleep(5);
    const before = performance.now();
    await enqueue(db, { kind: 'probe', payload: { i } });
    while (!starts.has(i)) await sleep(0);
    samples.push((starts.get(i) as number) - before);
  }
  await idle.stop(5000);
  samples.sort((a, b) => a - b);
  out.enqueueToStartMs = { samples: samples.length, p50: round(pct(samples, 50), 2), p99: round(pct(samples, 99), 2) };
  out.peakRssMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  await db.close();
  return out;
}

/** Run both targets and report. */
export async function run() {
  const targets = (process.env.BENCH_TARGETS ?? 'postgres,pglite').split(',') as ('postgres' | 'pglite')[];
  const results: Record<string, unknown> = { bench: 'jobs', node: process.version, cpus: (await import('node:os')).cpus().length };
  for (const t of targets) results[t] = await benchTarget(t);
  return results;
}
