import { loadConfig } from '../src/config';
import { createApiToken } from '../src/http/tokens';
import { enqueueMany } from '../src/jobs/queue';
import { createRunner } from '../src/jobs/runner';
import { defineJob } from '../src/jobs/types';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';

// The process `npm run bench -- footprint` measures: the bot as main.ts starts it (compiled, in
// dist/bench/), plus a runner for no-op jobs and an IPC port through which the bench asks for them
// and for an API token. Built by tools/build.mjs beside main.js.
type Ask = { op: 'token' } | { op: 'noop'; n: number };

const config = loadConfig(process.env);
const log = createLogger(config.LOG_LEVEL);
const running = await startServer(config, log);
const { db } = running.deps;
let ran = 0;
let waiting: { n: number; done: () => void } | undefined;
const noop = defineJob({
  kind: 'footprint_noop',
  concurrency: 10,
  run: async () => {
    ran += 1;
    if (waiting && ran >= waiting.n) waiting.done();
  },
});
const runner = createRunner({ db, log, definitions: [noop], concurrency: 10, leaseMs: 60_000, pollIntervalMs: 1000 });
await runner.start();

const reply = (msg: unknown) => process.send?.(msg);
process.on('message', async (ask: Ask) => {
  try {
    if (ask.op === 'token') {
      reply({ op: 'token', token: await createApiToken(db, `footprint-${process.pid}`, 'operator', 'bench') });
      return;
    }
    ran = 0;
    const drained = new Promise<void>((done) => {
      waiting = { n: ask.n, done };
    });
    for (let i = 0; i < ask.n; i += 1000) {
      const size = Math.min(1000, ask.n - i);
      await enqueueMany(
        db,
        Array.from({ length: size }, (_, j) => ({ kind: 'footprint_noop', payload: { i: i + j } })),
      );
    }
    await drained;
    reply({ op: 'noop', ran });
  } catch (err) {
    reply({ op: 'error', message: String(err) });
  }
});
process.on('SIGTERM', async () => {
  await runner.stop(5000);
  await running.stop();
  process.exit(0);
});
reply({ op: 'ready', url: running.url });
