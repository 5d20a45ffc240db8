import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import pino from 'pino';
import postgres from 'postgres';
import { rawPresets } from '../presets';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/client';
import { migrateDb } from '../src/db/migrate';
import { getJob } from '../src/jobs/reads';
import { shanghaiDate } from '../src/push/generators';
import { createPresetRegistry } from '../src/push/presets';
import { queueArguments } from '../src/push/publisher';
import { renderMessage } from '../src/push/render';
import { buildSpec } from '../src/push/spec';
import { startServer } from '../src/server';
import { createLocalChat } from '../tools/local-chat';

// `npm run bench -- push`: 50,000 refund messages through the whole path (chat callback -> job ->
// render -> publish -> confirms) against the local broker, beside a bare amqplib confirm-window
// publisher of the same bodies, in the same run.
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const AMQP = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const N = Number(process.env.BENCH_PUSH_N ?? 50_000);
const WINDOW = 500;
const SECRET = 'bench-secret';

/** Properties of a bare publish: minimal, or the ones every push message carries (see publisher.ts). */
const PROPS = {
  minimal: (j: number) => ({ persistent: true, contentType: 'application/json', messageId: `bare-${j}` }),
  sameAsPush: (j: number) => ({
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    messageId: `bare-${j}`,
    timestamp: Math.floor(Date.now() / 1000),
    appId: 'chatops-bot',
    type: 'refund',
    headers: { 'x-pushed-by': 'bench (bench)' },
  }),
};

async function barePublisher(queue: string, bodies: Buffer[], props: (j: number) => object): Promise<number> {
  const conn = await amqp.connect(AMQP);
  const ch = await conn.createConfirmChannel();
  const started = performance.now();
  for (let i = 0; i < bodies.length; i += WINDOW) {
    for (let j = i; j < Math.min(bodies.length, i + WINDOW); j++) ch.publish('', queue, bodies[j] as Buffer, props(j));
    await ch.waitForConfirms();
  }
  const seconds = (performance.now() - started) / 1000;
  await conn.close();
  return bodies.length / seconds;
}

export async function run() {
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe('drop database if exists chatops_bench_push with (force)');
  await admin.unsafe('create database chatops_bench_push');
  await admin.end();
  const db = await createDb({ url: `${PG}/chatops_bench_push`, poolSize: 10 });
  await migrateDb(db);
  const queue = `bench_push_${randomBytes(3).toString('hex')}`;
  const broker = await amqp.connect(AMQP);
  const mgmt = await broker.createChannel();
  await mgmt.assertQueue(`${queue}_dlq`, { durable: true });
  await mgmt.assertQueue(queue, { durable: true, arguments: queueArguments(queue) });

  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DINGTALK_CLIENT_SECRET: SECRET,
    DINGTALK_REPLY_HOSTS: '127.0.0.1', // the local sessionWebhook receiver
    DINGTALK_STREAM: 'off',
    AMQP_URL: AMQP,
    PUSH_ALLOWED_QUEUES: 'bench_*',
    DATA_DIR: '/tmp/chatops-bench-push',
  });
  const server = await startServer(config, pino({ level: 'silent' }), { db });
  const chat = await createLocalChat({ url: server.url, secret: SECRET, staffId: 'bench' });
  const rssBefore = process.memoryUsage().rss;

  // Whole path, measured from the chat message to the job's success.
  let heapMax = 0;
  let externalMax = 0;
  let rssMax = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    heapMax = Math.max(heapMax, m.heapUsed);
    externalMax = Math.max(externalMax, m.external + m.arrayBuffers);
    rssMax = Math.max(rssMax, m.rss);
  }, 50);
  const fullRates: number[] = [];
  for (let round = 0; round < 2; round++) {
    const from = chat.replies.length;
    const started = performance.now();
    await chat.send(`/push refund store=12 sku=A001*2,B002 count=${N} queue=${queue}`);
    const ack = await chat.waitFor((r) => r.text.includes('已受理推送任务'), 30_000, from);
    const id = Number(/#(\d+)/.exec(ack.text)?.[1]);
    for (;;) {
      const job = await getJob(db, id);
      if (job?.status === 'succeeded') break;
      if (job?.status === 'failed') throw new Error(`push failed: ${job.error}`);
      await sleep(20);
    }
    fullRates.push(N / ((performance.now() - started) / 1000));
    await mgmt.purgeQueue(queue);
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  clearInterval(sampler);

  // The same bodies, rendered up front, through a bare confirm-window publisher.
  const preset = createPresetRegistry(rawPresets).get('refund');
  if (!preset) throw new Error('refund preset missing');
  const now = Date.now();
  const spec = buildSpec(preset, { overrides: { store: '12' }, items: 'A001*2,B002', count: N, queue }, 'zh-CN', now);
  const bodies = Array.from({ length: N }, (_, index) =>
    Buffer.from(
      JSON.stringify(
        renderMessage(preset, spec, { index, seqStart: 1, date: shanghaiDate(now), nowMs: now, jobKey: 'bench', installTag: '000001' })
          .body,
      ),
    ),
  );
  const bareRates: number[] = [];
  const bareSameRates: number[] = [];
  for (let round = 0; round < 2; round++) {
    bareRates.push(await barePublisher(queue, bodies, PROPS.minimal));
    await mgmt.purgeQueue(queue);
    bareSameRates.push(await barePublisher(queue, bodies, PROPS.sameAsPush));
    await mgmt.purgeQueue(queue);
  }

  await chat.close();
  await server.stop();
  await mgmt.deleteQueue(queue);
  await mgmt.deleteQueue(`${queue}_dlq`);
  await broker.close();
  await db.close();
  const best = (xs: number[]) => Math.round(Math.max(...xs));
  const full = best(fullRates);
  const bare = best(bareRates);
  const bareSame = best(bareSameRates);
  return {
    bench: 'push',
    messages: N,
    confirmWindow: WINDOW,
    fullPathMsgPerSec: full,
    fullPathRounds: fullRates.map(Math.round),
    bareConfirmWindowMsgPerSec: bare,
    bareRounds: bareRates.map(Math.round),
    ratio: Number((full / bare).toFixed(2)),
    // The same bare loop with the properties every push message must carry (mandatory, app_id,
    // timestamp, a who-pushed header): what the broker itself allows for such messages.
    bareSamePropertiesMsgPerSec: bareSame,
    bareSamePropertiesRounds: bareSameRates.map(Math.round),
    ratioToSameProperties: Number((full / bareSame).toFixed(2)),
    peakRssMb: Math.round(peakRssMb),
    rssBeforePushMb: Math.round(rssBefore / 1024 / 1024),
    duringPush: {
      rssMaxMb: Math.round(rssMax / 1048576),
      heapUsedMaxMb: Math.round(heapMax / 1048576),
      externalMaxMb: Math.round(externalMax / 1048576),
    },
  };
}
