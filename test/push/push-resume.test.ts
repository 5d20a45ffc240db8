import type { Channel, ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps';
import { getJob } from '../../src/jobs/queue';
import { createRunner } from '../../src/jobs/runner';
import { shanghaiDate } from '../../src/push/generators';
import { reserveNumbers } from '../../src/push/order-numbers';
import { queueArguments } from '../../src/push/publisher';
import { compileRenderer } from '../../src/push/render';
import { submitPush, validatePush } from '../../src/push/submit-push';
import { AMQP_URL, collect, connectBroker, dropQueue, uniqueQueue } from '../helpers/amqp';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps, testLog } from '../helpers/deps';
import { waitForStatus } from '../helpers/jobs';

// A push whose earlier attempt confirmed 600 of 1,000 messages: the next attempt continues at 601
// with the same order numbers, instead of starting over.
let t: TestDb;
let deps: Deps;
let broker: { conn: ChannelModel; ch: Channel };
const queue = uniqueQueue('resume');

beforeAll(async () => {
  t = await createTestDb('postgres');
  deps = testDeps(t.db, { AMQP_URL, PUSH_ALLOWED_QUEUES: 'test_*' });
  broker = await connectBroker();
});
afterAll(async () => {
  await dropQueue(broker.ch, queue);
  await deps.publisher?.close();
  await broker.conn.close();
  await t.drop();
});

describe('a retried push', () => {
  it('resumes after the last confirmed window with the same order numbers', async () => {
    const { preset, spec } = validatePush(deps, { type: 'refund', overrides: { store: '3' }, items: 'A001', count: 1000, queue });
    const job = await submitPush(deps, spec, { key: 'alice', role: 'operator' });
    // What the first attempt left behind: its reserved numbers and 600 confirmed messages.
    const seqStart = await reserveNumbers(t.db, 2000);
    const date = shanghaiDate(job.createdAt.getTime());
    await t.db.query(
      `insert into push_runs (job_id, seq_start, order_date, confirmed, first_order_no, last_order_no) values ($1, $2, $3, 600, 'x', 'y')`,
      [job.id, seqStart, date],
    );
    await t.db.query(`update jobs set attempts = 1 where id = $1`, [job.id]);
    await broker.ch.assertQueue(`${queue}_dlq`, { durable: true });
    await broker.ch.assertQueue(queue, { durable: true, arguments: queueArguments(queue) });
    const c = await collect(broker.ch, queue);
    const runner = createRunner({
      db: t.db,
      log: testLog,
      definitions: [...deps.jobDefinitions],
      concurrency: 2,
      leaseMs: 30_000,
      pollIntervalMs: 200,
    });
    await runner.start();
    try {
      const done = await waitForStatus(t.db, job.id, ['succeeded', 'failed'], 30_000);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
      await c.waitFor(400);
      await new Promise((r) => setTimeout(r, 300));
      await c.stop();
      expect(c.messages).toHaveLength(400);
      expect(c.messages[0]?.properties.messageId).toBe(`${job.id}-601`);
      expect(c.messages[399]?.properties.messageId).toBe(`${job.id}-1000`);
      const render = compileRenderer(preset, spec);
      const expected601 = JSON.parse(render({ index: 600, seqStart, date, nowMs: Date.now(), jobKey: String(job.id) }));
      expect(c.bodies()[0]?.refundNo).toBe(expected601.refundNo);
      const result = (await getJob(t.db, job.id))?.result as { republished: number };
      expect(result.republished).toBe(400); // the window after 600 may have gone out before: at most 400 repeats
    } finally {
      await runner.stop(2000);
    }
  });
});
