import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { freePort, nextMessage, startFlags } from './child';

// `npm run bench -- intake`: the compiled bot in its own process on a fresh Postgres database,
// driven for BENCH_INTAKE_SECONDS (10) at 20 and at 50 keep-alive connections with (a) signed
// DingTalk HTTP callbacks carrying /ping, each with a fresh msgId, replies going to a local
// sessionWebhook that answers {"errcode":0} at once and counts them; (b) POST /hooks/commands/ping
// with bearer tokens. The load client runs in a worker thread of this process, never in the bot;
// the bot's CPU time comes from process.cpuUsage() inside it (over IPC, bench/intake-bot.ts).
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const SECONDS = Number(process.env.BENCH_INTAKE_SECONDS ?? 10);
const CONNECTIONS = (process.env.BENCH_INTAKE_CONNECTIONS ?? '20,50').split(',').map(Number);
const CASES = (process.env.BENCH_INTAKE_CASES ?? 'callback,webhook').split(',') as Case[];
/** Extra node flags for the bot, e.g. BENCH_INTAKE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const EXTRA_FLAGS = (process.env.BENCH_INTAKE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BOT = path.join(ROOT, 'dist/bench/intake-bot.js');
const NODE_FLAGS = startFlags();
const TARGET = { perSecondAt50: 2000, p99Ms: 50, cpuMsPerMessage: 0.35 };

type Case = 'callback' | 'webhook';

/**
 * The load client, plain JavaScript run in a worker thread: one keep-alive TCP connection per
 * simulated client, each sending its next request when the answer to the last has arrived. It
 * writes HTTP/1.1 requests itself and reads only the status line, Content-Length and body of each
 * answer (as wrk or autocannon do): node:http's client cost ~0.2 ms of CPU per request, on the same
 * two cores as the bot and Postgres.
 */
const LOAD_CLIENT = `
const { parentPort, workerData: w } = require('node:worker_threads');
const net = require('node:net');
const { createHmac } = require('node:crypto');
const url = new URL(w.url);
const latencies = [];
let errors = 0;
let sent = 0;
const statuses = {};
let signTs = '';
let sign = '';
const CRLF2 = Buffer.from('\\r\\n\\r\\n');
function requestBytes(i, seq) {
  let path;
  let body;
  let extra;
  if (w.kind === 'callback') {
    const ts = String(Date.now());
    if (ts !== signTs) {
      signTs = ts;
      sign = createHmac('sha256', w.secret).update(ts + '\\n' + w.secret, 'utf8').digest('base64');
    }
    extra = 'timestamp: ' + ts + '\\r\\nsign: ' + sign + '\\r\\n';
    path = '/dingtalk/callback';
    body = JSON.stringify({
      msgId: w.runId + '-' + i + '-' + seq,
      msgtype: 'text',
      text: { content: '/ping' },
      conversationId: 'cid-intake-' + i,
      conversationType: '2',
      senderId: 'sender-' + i,
      senderStaffId: 'staff-' + (i % 50) + '-' + w.runId,
      senderNick: 'bench',
      sessionWebhook: w.replyUrl,
      sessionWebhookExpiredTime: Date.now() + 3600000,
      createAt: Date.now(),
    });
  } else {
    extra = 'authorization: Bearer ' + w.tokens[i % w.tokens.length] + '\\r\\n';
    path = '/hooks/commands/ping';
    body = '{}';
  }
  const b = Buffer.from(body);
  return Buffer.concat([
    Buffer.from('POST ' + path + ' HTTP/1.1\\r\\nhost: ' + url.host + '\\r\\ncontent-type: application/json\\r\\n' + extra +
      'content-length: ' + b.length + '\\r\\nconnection: keep-alive\\r\\n\\r\\n'),
    b,
  ]);
}
function client(i, until) {
  return new Promise((resolve) => {
    let seq = 0;
    let t0 = 0;
    let buf = Buffer.alloc(0);
    let need = -1; // bytes of the current answer (head + body), once its head is in
    let status = 0;
    const socket = net.connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    const next = () => {
      if (performance.now() >= until) {
        socket.end();
        resolve();
        return;
      }
      sent++;
      t0 = performance.now();
      socket.write(requestBytes(i, seq++));
    };
    socket.on('connect', next);
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (true) {
        if (need < 0) {
          const end = buf.indexOf(CRLF2);
          if (end < 0) return;
          const head = buf.toString('latin1', 0, end);
          status = Number(head.slice(9, 12));
          const m = /\\r\\ncontent-length: *(\\d+)/i.exec(head);
          need = end + 4 + (m ? Number(m[1]) : 0);
        }
        if (buf.length < need) return;
        buf = buf.subarray(need);
        need = -1;
        statuses[status] = (statuses[status] || 0) + 1;
        if (status !== 200) errors++;
        latencies.push(performance.now() - t0);
        next();
      }
    });
    socket.on('error', () => {
      errors++;
      resolve();
    });
  });
}
(async () => {
  const start = performance.now();
  const until = start + w.seconds * 1000;
  await Promise.all(Array.from({ length: w.connections }, (_, i) => client(i, until)));
  const elapsed = (performance.now() - start) / 1000;
  parentPort.postMessage({ sent, errors, statuses, elapsed, latencies: Float64Array.from(latencies) });
})();
`;

/**
 * The sessionWebhook: answers {"errcode":0} to each POST at once and counts them. Plain TCP with
 * the HTTP/1.1 it needs (Content-Length bodies on keep-alive connections, as the bot sends them),
 * for the same reason as the load client.
 */
function startReplySink(onReply: () => void): Promise<Server> {
  const answer = Buffer.from(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 13\r\nkeep-alive: timeout=30\r\n\r\n{"errcode":0}',
  );
  const sink = createNetServer((socket) => {
    let buf: Buffer = Buffer.alloc(0);
    let need = -1;
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (true) {
        if (need < 0) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const m = /\r\ncontent-length: *(\d+)/i.exec(buf.toString('latin1', 0, end));
          need = end + 4 + (m ? Number(m[1]) : 0);
        }
        if (buf.length < need) return;
        buf = buf.subarray(need);
        need = -1;
        onReply();
        socket.write(answer);
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => sink.listen(0, '127.0.0.1', () => resolve(sink)));
}

interface LoadResult {
  sent: number;
  errors: number;
  statuses: Record<string, number>;
  elapsed: number;
  latencies: Float64Array;
}

function runLoad(data: Record<string, unknown>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_CLIENT, { eval: true, workerData: data });
    worker.once('message', (m: LoadResult) => resolve(m));
    worker.once('error', reject);
  });
}

const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const round = (x: number, d = 1) => Number(x.toFixed(d));

export async function run() {
  execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { stdio: 'inherit' });
  const suffix = randomBytes(3).toString('hex');
  const database = `chatops_intake_${suffix}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chatops-intake-'));
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${database}`);

  let replies = 0;
  const sink = await startReplySink(() => {
    replies++;
  });
  const replyUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/robot/send?session=intake`;

  const port = await freePort();
  const child = spawn(process.execPath, [...NODE_FLAGS, ...EXTRA_FLAGS, BOT], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_URL: `${PG}/${database}`,
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_MINUTE: '10000', // the highest it goes; load is spread over 50 callers besides
      ...(process.env.BENCH_INTAKE_BOT_ENV ? Object.fromEntries(new URLSearchParams(process.env.BENCH_INTAKE_BOT_ENV)) : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const results: Record<string, unknown> = {
    bench: 'intake',
    node: process.version,
    cpus: os.cpus().length,
    seconds: SECONDS,
    target: TARGET,
    loadAverage: os.loadavg().map((x) => round(x)),
  };
  try {
    await nextMessage(child, 'ready');
    const base = `http://127.0.0.1:${port}`;
    const secret = readFileSync(path.join(dataDir, 'callback-secret'), 'utf8').trim();
    child.send({ op: 'tokens', n: 50 });
    const { tokens } = await nextMessage<{ tokens: string[] }>(child, 'tokens');
    const cpu = async () => {
      child.send({ op: 'cpu' });
      const u = await nextMessage<{ userUs: number; systemUs: number; statements: number }>(child, 'cpu');
      return { total: (u.userUs + u.systemUs) / 1000, system: u.systemUs / 1000, statements: u.statements };
    };
    // CPU time (ms) of each Postgres backend serving the bench database, from /proc (clock ticks).
    const tick = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
    const postgresCpu = async () => {
      const pids = await admin.unsafe<{ pid: number }[]>(`select pid from pg_stat_activity where datname = '${database}'`);
      const out = new Map<number, number>();
      for (const { pid } of pids) {
        try {
          const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
          out.set(pid, (Number(fields[11]) + Number(fields[12])) * tick); // utime, stime
        } catch {
          // gone between the query and the read
        }
      }
      return out;
    };
    // A backend that started during the run counts from zero; one that ended is not counted.
    const cpuSince = (before: Map<number, number>, after: Map<number, number>) =>
      [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);
    // Warm-up: JIT and pools, not measured.
    await runLoad({ kind: 'callback', url: base, connections: 10, seconds: 2, secret, replyUrl, tokens, runId: `warm-${suffix}` });
    await runLoad({ kind: 'webhook', url: base, connections: 10, seconds: 1, secret, replyUrl, tokens, runId: `warmw-${suffix}` });
    await sleep(1000);
    for (const kind of CASES) {
      for (const connections of CONNECTIONS) {
        const repliesBefore = replies;
        const xacts = async () =>
          Number((await admin.unsafe(`select xact_commit + xact_rollback as n from pg_stat_database where datname = '${database}'`))[0]?.n);
        const xactsBefore = await xacts();
        const pgBefore = await postgresCpu();
        const benchBefore = process.cpuUsage();
        const cpuBefore = await cpu();
        const load = await runLoad({
          kind,
          url: base,
          connections,
          seconds: SECONDS,
          secret,
          replyUrl,
          tokens,
          runId: `${kind}-${connections}-${suffix}`,
        });
        const ok = load.sent - load.errors;
        // Every accepted callback owes one reply: wait for them all (up to 30 s).
        let delivered = 0;
        const waitUntil = Date.now() + 30_000;
        if (kind === 'callback') {
          while (replies - repliesBefore < ok && Date.now() < waitUntil) await sleep(50);
          delivered = replies - repliesBefore;
        }
        await sleep(200);
        const cpuAfter = await cpu();
        const benchCpu = process.cpuUsage(benchBefore);
        const pgAfter = await postgresCpu();
        await sleep(600); // pg_stat_database is updated when backends report, at most every 500 ms
        const xactsAfter = await xacts();
        const cpuMs = cpuAfter.total - cpuBefore.total;
        const systemMs = cpuAfter.system - cpuBefore.system;
        const sorted = load.latencies.sort();
        const perSecond = load.sent / load.elapsed;
        const p99 = pct(sorted, 99);
        const cpuPerMessage = cpuMs / Math.max(1, load.sent);
        results[`${kind}@${connections}`] = {
          requests: load.sent,
          perSecond: round(perSecond),
          p50Ms: round(pct(sorted, 50)),
          p99Ms: round(p99),
          maxMs: round(sorted[sorted.length - 1] ?? 0),
          errors: load.errors,
          statuses: load.statuses,
          ...(kind === 'callback' ? { repliesExpected: ok, repliesDelivered: delivered } : {}),
          botCpuMs: Math.round(cpuMs),
          botCpuMsPerMessage: round(cpuPerMessage, 3),
          botSystemCpuMsPerMessage: round(systemMs / Math.max(1, load.sent), 3),
          dbTransactionsPerMessage: round((xactsAfter - xactsBefore) / Math.max(1, load.sent), 2),
          dbStatementsPerMessage: round((cpuAfter.statements - cpuBefore.statements) / Math.max(1, load.sent), 2),
          botCpuCores: round(cpuMs / 1000 / load.elapsed, 2),
          // Beside the bot, on the same cores: its Postgres backends, and this process (load client
          // and reply sink). Their sum per message bounds what the machine can do per second.
          postgresCpuMsPerMessage: round(cpuSince(pgBefore, pgAfter) / Math.max(1, load.sent), 3),
          loadClientCpuMsPerMessage: round((benchCpu.user + benchCpu.system) / 1000 / Math.max(1, load.sent), 3),
          ...(connections === 50
            ? {
                meets: {
                  perSecond: perSecond >= TARGET.perSecondAt50,
                  p99: p99 <= TARGET.p99Ms,
                  cpu: cpuPerMessage <= TARGET.cpuMsPerMessage,
                  ...(kind === 'callback' ? { allReplies: delivered === ok && load.errors === 0 } : {}),
                },
              }
            : {}),
        };
        await sleep(1000);
      }
    }
  } finally {
    results.loadAverageAfter = os.loadavg().map((x) => round(x));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
    sink.close();
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
