import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps';
import { getJob } from '../../src/jobs/reads';
import { createRunner } from '../../src/jobs/runner';
import type { Job } from '../../src/jobs/types';
import { formatTime, shanghaiDate } from '../../src/push/generators';
import { installTag, reserveNumbers } from '../../src/push/order-numbers';
import { queueArguments } from '../../src/push/publisher';
import { createPushJob, type PushResult } from '../../src/push/push-job';
import { compileRenderer, renderMessage } from '../../src/push/render';
import { submitPush, validatePush } from '../../src/push/submit-push';
import { AMQP_URL, collect, connectBroker, dropQueue, uniqueQueue } from '../helpers/amqp';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps, testLog } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';

// Retried pushes: an earlier attempt that confirmed 600 of 1,000 messages is continued at 601 with
// the same order numbers; one that never published says nothing about re-sending. The push job runs
// on a fixed clock handed in as its dependency.
let t: TestDb;
let deps: Deps;
let broker: { conn: ChannelModel; ch: Channel };
const queues: string[] = [];
const NOW = Date.UTC(2026, 10, 23, 2, 30, 0); // 10:30 in Shanghai

beforeAll(async () => {
  t = await createTestDb('postgres');
  deps = testDeps(t.db, { AMQP_URL, PUSH_ALLOWED_QUEUES: 'test_*' });
  broker = await connectBroker();
});
afterAll(async () => {
  for (const q of queues) await dropQueue(broker.ch, q);
  await deps.publisher?.close();
  await broker.conn.close();
  await t.drop();
});

const pushJob = () => createPushJob({ presets: deps.presets, publisher: deps.publisher, config: deps.config, t: deps.t, now: () => NOW });

async function declare(label: string): Promise<string> {
  const queue = uniqueQueue(label);
  queues.push(queue);
  await broker.ch.assertQueue(`${queue}_dlq`, { durable: true });
  await broker.ch.assertQueue(queue, { durable: true, arguments: queueArguments(queue) });
  return queue;
}

/** Run the job queue until the job is final; returns the job. */
async function runToEnd(id: number): Promise<Job> {
  const runner = createRunner({ db: t.db, log: testLog, definitions: [pushJob()], concurrency: 2, leaseMs: 30_000, pollIntervalMs: 200 });
  await runner.start();
  try {
    return await waitForStatus(t.db, id, ['succeeded', 'failed'], 30_000);
  } finally {
    await runner.stop(2000);
  }
}

describe('a retried push', () => {
  it('resumes after the last confirmed window with the same order numbers, and says what it re-sent', async () => {
    const queue = await declare('resume');
    const { preset, spec } = validatePush(deps, { type: 'refund', overrides: { store: '3' }, items: 'A001', count: 1000, queue });
    const job = await submitPush(deps, spec, { key: 'alice', role: 'operator' });
    // What the first attempt left behind (a push from before install tags: no tag, the old layout):
    // its reserved numbers, all 1,000 handed to the broker, 600 confirmed.
    const seqStart = await reserveNumbers(t.db, 2000);
    const date = shanghaiDate(job.createdAt.getTime());
    await t.db.query(
      `insert into push_runs (job_id, seq_start, order_date, confirmed, sent, first_order_no, last_order_no)
       values ($1, $2, $3, 600, 1000, 'x', 'y')`,
      [job.id, seqStart, date],
    );
    await t.db.query(`update jobs set attempts = 1 where id = $1`, [job.id]);
    const done = await runToEnd(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    // Every message is confirmed once the job succeeded: the queue holds exactly what was sent.
    expect((await broker.ch.checkQueue(queue)).messageCount).toBe(400);
    const c = await collect(broker.ch, queue);
    await c.waitFor(400);
    await c.stop();
    expect(c.messages[0]?.properties.messageId).toBe(`${job.id}-601`);
    expect(c.messages[399]?.properties.messageId).toBe(`${job.id}-1000`);
    const render = compileRenderer(preset, spec);
    const expected601 = JSON.parse(render({ index: 600, seqStart, date, nowMs: NOW, jobKey: String(job.id) }));
    expect(c.bodies()[0]?.refundNo).toBe(expected601.refundNo);
    const result = (await getJob(t.db, job.id))?.result as PushResult;
    // The 400 handed over before but never confirmed may have reached the queue: at most 400 repeats,
    // re-sent by the retry, not by a lost connection.
    expect(result).toMatchObject({ republished: 400, resentOnRetry: 400, resentOnReconnect: 0 });
    const text = pushJob().describe?.(result, deps.t, done) ?? '';
    expect(text).toContain('上一次尝试已发出但未确认的 400 条消息这次重新发送了');
    expect(text).not.toContain('连接中断');
    expect(text).not.toContain('用时'); // the job's own closing line says it, once
  });

  it('that never published re-sends nothing and says so by saying nothing; times come from the clock it is given', async () => {
    const queue = await declare('never');
    const { preset, spec } = validatePush(deps, { type: 'refund', overrides: { store: '4' }, items: 'BOX12', count: 3, queue });
    const job = await submitPush(deps, spec, { key: 'alice', role: 'operator' });
    // The first attempt reserved its numbers and then failed before publishing anything.
    await t.db.query(`update jobs set attempts = 1 where id = $1`, [job.id]);
    const seqStart = await reserveNumbers(t.db, 6);
    const tag = await installTag(t.db);
    const ctx = { seqStart, date: shanghaiDate(NOW), nowMs: NOW, jobKey: String(job.id), installTag: tag };
    await t.db.query(
      `insert into push_runs (job_id, seq_start, order_date, install_tag, sent, first_order_no, last_order_no)
       values ($1, $2, $3, $4, 0, $5, $6)`,
      [
        job.id,
        seqStart,
        ctx.date,
        tag,
        renderMessage(preset, spec, { ...ctx, index: 0 }).orderNo,
        renderMessage(preset, spec, { ...ctx, index: 2 }).orderNo,
      ],
    );
    const done = await runToEnd(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await broker.ch.checkQueue(queue)).messageCount).toBe(3);
    const c = await collect(broker.ch, queue);
    await c.waitFor(3);
    await c.stop();
    const bodies = c.bodies();
    expect(bodies.map((b) => b.applyTime)).toEqual(Array(3).fill(formatTime(NOW, 'yyyy-MM-dd HH:mm:ss')));
    expect(bodies[0]?.items).toMatchObject([{ skuCode: 'BOX12', refundQuantity: 1 }]);
    // Each prefix takes its own consecutive block: TK n..n+2, PO n+3..n+5.
    const seq = (s: string) => Number(s.slice(-8));
    expect(bodies.map((b) => seq(b.refundNo))).toEqual([seqStart, seqStart + 1, seqStart + 2]);
    expect(bodies.map((b) => seq(b.platformOrderNo))).toEqual([seqStart + 3, seqStart + 4, seqStart + 5]);
    expect(bodies[0]?.refundNo).toBe(`TK20261123${tag}${String(seqStart).padStart(8, '0')}`);
    const result = (await getJob(t.db, job.id))?.result as PushResult;
    expect(result).toMatchObject({ republished: 0, resentOnRetry: 0, resentOnReconnect: 0, durationMs: 0 });
    const text = pushJob().describe?.(result, deps.t, done) ?? '';
    expect(text).toContain(`订单号 ${bodies[0]?.refundNo} … ${bodies[2]?.refundNo}。`);
    expect(text).not.toMatch(/重发|重新发送/);
  });
});
