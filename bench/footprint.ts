import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import postgres from 'postgres';
import { queueArguments } from '../src/push/publisher';
import { freePort, nextMessage, startFlags } from './child';

// `npm run bench -- footprint`: the compiled bot in its own process, three ways — PGlite on an empty
// data directory, PGlite again on that directory, Postgres on a fresh database. For each: time from
// spawn to the first /health 200, RSS 5 s later, after 10,000 no-op jobs, after a 100,000-message push
// (/hooks/push to RabbitMQ), and again after a minute's rest.
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const AMQP = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const JOBS = Number(process.env.BENCH_FOOTPRINT_JOBS ?? 10_000);
const MESSAGES = Number(process.env.BENCH_FOOTPRINT_MESSAGES ?? 100_000);
const SETTLE_MS = Number(process.env.BENCH_FOOTPRINT_SETTLE_MS ?? 60_000);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BOT = path.join(ROOT, 'dist/bench/footprint-bot.js');
const NODE_FLAGS = startFlags();

type Mode = 'pgliteFirst' | 'pgliteWarm' | 'postgres';
const TARGETS: Record<Mode, { readyMs: number; idleRssMb: number; afterJobsRssMb?: number }> = {
  pgliteFirst: { readyMs: 8000, idleRssMb: 250, afterJobsRssMb: 300 },
  pgliteWarm: { readyMs: 3000, idleRssMb: 250, afterJobsRssMb: 300 },
  postgres: { readyMs: 1500, idleRssMb: 120 },
};

/** CPU time the process has used (user + system), in ms: unlike wall time, it does not depend on the machine's load. */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Math.round(((Number(fields[11]) + Number(fields[12])) * 1000) / 100); // utime, stime in 1/100 s
};

const rssMb = (pid: number, field = 'VmRSS') => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1]) / 1024);
};

async function measure(mode: Mode, env: Record<string, string>, queue: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, BOT], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      AMQP_URL: AMQP,
      PUSH_ALLOWED_QUEUES: 'footprint_*',
      RATE_LIMIT_PER_MINUTE: '10000', // the bench polls its push job's status
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid as number;
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode} before it was ready`);
      const ok = await fetch(`${base}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(20);
    }
    const readyMs = Math.round(performance.now() - started);
    const cpuMsToReady = cpuMs(pid);
    await sleep(5000);
    const idleRssMb = rssMb(pid);

    let t0 = performance.now();
    child.send({ op: 'noop', n: JOBS });
    await nextMessage(child, 'noop');
    const jobsSeconds = (performance.now() - t0) / 1000;
    const afterJobsRssMb = rssMb(pid);
    await sleep(SETTLE_MS);
    const afterJobsSettledRssMb = rssMb(pid);

    child.send({ op: 'token' });
    const { token } = await nextMessage<{ token: string }>(child, 'token');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    t0 = performance.now();
    const res = await fetch(`${base}/hooks/push/refund`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ overrides: { store: '12' }, items: 'A001*2,B002', count: MESSAGES, queue }),
    });
    const submitted = (await res.json()) as { jobId?: number };
    if (res.status !== 202 || !submitted.jobId) throw new Error(`push not accepted: ${res.status} ${JSON.stringify(submitted)}`);
    for (;;) {
      await sleep(250);
      const status = await fetch(`${base}/api/jobs/${submitted.jobId}`, { headers: auth });
      const { job } = (await status.json()) as { job?: { status: string; error?: string } };
      if (!job) throw new Error(`GET /api/jobs/${submitted.jobId} answered ${status.status}`);
      if (job.status === 'succeeded') break;
      if (job.status === 'failed' || job.status === 'cancelled') throw new Error(`push ${job.status}: ${job.error}`);
    }
    const pushSeconds = (performance.now() - t0) / 1000;
    const afterPushRssMb = rssMb(pid);
    const peakRssMb = rssMb(pid, 'VmHWM');

    const target = TARGETS[mode];
    const meets = {
      readyMs: readyMs <= target.readyMs,
      idleRssMb: idleRssMb <= target.idleRssMb,
      ...(target.afterJobsRssMb
        ? {
            afterJobsRssMb: afterJobsRssMb <= target.afterJobsRssMb,
            afterJobsSettledWithin50MbOfIdle: afterJobsSettledRssMb - idleRssMb <= 50,
          }
        : {}),
    };
    return {
      readyMs,
      cpuMsToReady,
      idleRssMb,
      jobs: { n: JOBS, seconds: Number(jobsSeconds.toFixed(1)), afterRssMb: afterJobsRssMb, settledRssMb: afterJobsSettledRssMb },
      push: { messages: MESSAGES, seconds: Number(pushSeconds.toFixed(1)), afterRssMb: afterPushRssMb },
      peakRssMb,
      target,
      meets,
    };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
  }
}

export async function run() {
  execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { stdio: 'inherit' });
  const suffix = randomBytes(3).toString('hex');
  const queue = `footprint_${suffix}`;
  const database = `chatops_footprint_${suffix}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chatops-footprint-'));
  const conn = await amqp.connect(AMQP);
  const ch = await conn.createChannel();
  await ch.assertQueue(`${queue}_dlq`, { durable: true });
  await ch.assertQueue(queue, { durable: true, arguments: queueArguments(queue) });
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${database}`);
  const modes = (process.env.BENCH_FOOTPRINT_MODES ?? 'pgliteFirst,pgliteWarm,postgres').split(',') as Mode[];
  const results: Record<string, unknown> = {
    bench: 'footprint',
    node: process.version,
    cpus: os.cpus().length,
    nodeFlags: NODE_FLAGS,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
  };
  try {
    for (const mode of modes) {
      const env: Record<string, string> =
        mode === 'postgres'
          ? { DATA_DIR: path.join(dataDir, 'pg-mode'), DATABASE_URL: `${PG}/${database}` }
          : { DATA_DIR: path.join(dataDir, 'pglite') };
      results[mode] = await measure(mode, env, queue);
      await ch.purgeQueue(queue);
    }
  } finally {
    results.loadAverageAfter = os.loadavg().map((x) => Number(x.toFixed(1)));
    await ch.deleteQueue(queue);
    await ch.deleteQueue(`${queue}_dlq`);
    await conn.close();
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
