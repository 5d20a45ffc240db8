import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupJob } from '../../src/jobs/cleanup';
import { getJob } from '../../src/jobs/reads';
import type { Relay } from '../../src/jobs/relay';
import type { Runner } from '../../src/jobs/runner';
import type { AnyJobDefinition } from '../../src/jobs/types';
import { CLEANUP_SCHEDULE, ensureBuiltinSchedules } from '../../src/schedules/builtin';
import { fireSchedule } from '../../src/schedules/fire';
import { getScheduleByName, type Schedule } from '../../src/schedules/store';
import { createTestDb, type TestDb } from '../helpers/db';
import { testRelay, testRunner, waitForStatus } from '../helpers/jobs';

// The final-message sweep (retries, attempt limit) and the scheduled clean-up, on the real queue.
let t: TestDb;
let hook: http.Server;
let hookUrl: string;
const handlers: AnyJobDefinition[] = [cleanupJob];
let failNext = 0; // how many of the next posts the fake sessionWebhook refuses
const received: string[] = [];

beforeAll(async () => {
  t = await createTestDb('postgres');
  // A sessionWebhook that answers like DingTalk's: HTTP 200 with an errcode.
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (failNext > 0) {
        failNext -= 1;
        res.end(JSON.stringify({ errcode: 300001, errmsg: 'session expired' }));
        return;
      }
      received.push(body);
      res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/robot/send`;
});
afterAll(async () => {
  await new Promise((r) => hook.close(r));
  await t?.drop();
});
afterEach(async () => {
  await t.db.query('delete from jobs');
  received.length = 0;
  failNext = 0;
});

/** A job that finished (failed) and whose final message is due now. */
async function finishedJob(): Promise<number> {
  const replyTo = {
    conversationId: 'cid',
    conversationType: 'group',
    sessionWebhook: hookUrl,
    sessionWebhookExpiresAt: Date.now() + 3_600_000,
  };
  const [row] = await t.db.query<{ id: number }>(
    `insert into jobs (kind, status, ready, attempts, error, error_info, finished_at, reply_to, notify_next_at)
     values ('jobs_cleanup', 'failed', false, 1, 'raw', '{"code":"worker_lost"}', now(), $1::jsonb, now()) returning id`,
    [JSON.stringify(replyTo)],
  );
  return Number(row?.id);
}
const notifyState = async (id: number) =>
  (
    await t.db.query<{ notify_attempts: number; due: boolean | null; notified: boolean }>(
      `select notify_attempts, notify_next_at <= now() as due, notified_at is not null as notified from jobs where id = $1`,
      [id],
    )
  )[0];
// Stand-in for time passing: make the backed-off delivery due now.
const makeDue = (id: number) => t.db.query(`update jobs set notify_next_at = now() where id = $1 and notify_next_at is not null`, [id]);

describe('the final-message sweep', () => {
  it('retries a final message that could not be delivered, with backoff, until it lands', async () => {
    const relay: Relay = testRelay(t.db, handlers);
    const id = await finishedJob();
    failNext = 2;
    await relay.sweep();
    expect(await notifyState(id)).toEqual({ notify_attempts: 1, due: false, notified: false }); // backed off, not due
    await relay.sweep();
    expect(received).toEqual([]); // nothing due: the sweep did not send again
    await makeDue(id);
    await relay.sweep();
    expect(await notifyState(id)).toMatchObject({ notify_attempts: 2, notified: false });
    await makeDue(id);
    await relay.sweep();
    expect(await notifyState(id)).toEqual({ notify_attempts: 3, due: null, notified: true });
    expect(received).toHaveLength(1);
    expect(received[0]).toContain('运行它的进程意外停止');
    expect(received[0]).not.toContain('raw');
  });

  it('gives up after its attempt limit and never sends that message again', async () => {
    const relay = testRelay(t.db, handlers);
    const id = await finishedJob();
    failNext = 1000;
    let sweeps = 0;
    for (;;) {
      await makeDue(id);
      await relay.sweep();
      sweeps += 1;
      const s = await notifyState(id);
      if (s?.due === null) break; // no next try scheduled: given up
      expect(sweeps, 'the sweep never gives up').toBeLessThan(20);
    }
    expect(sweeps).toBe(8);
    expect(await notifyState(id)).toEqual({ notify_attempts: 8, due: null, notified: false });
    failNext = 0;
    await makeDue(id); // no-op: nothing is scheduled any more
    await relay.sweep();
    expect(received).toEqual([]);
  });
});

describe('the scheduled clean-up', () => {
  let runner: Runner | undefined;
  afterEach(async () => {
    await runner?.stop(1000);
    runner = undefined;
  });

  it('fires once per hour across instances as the built-in schedule, and the job removes what is past retention', async () => {
    await t.db.query(
      `insert into jobs (kind, status, ready, finished_at, created_at)
       select 'old', 'succeeded', false, now() - interval '40 days', now() - interval '40 days' from generate_series(1, 30)`,
    );
    await t.db.query(
      `insert into jobs (kind, status, ready, finished_at) select 'recent', 'succeeded', false, now() - interval '2 days' from generate_series(1, 5)`,
    );
    await t.db.query(
      `insert into inbound_messages (source, robot_code, msg_id, text, created_at)
       select 'http', 'r', 'old-' || g, '/ping', now() - interval '40 days' from generate_series(1, 7) g`,
    );
    await t.db.query(`insert into rate_limits (key, window_start, count) values ('stale', now() - interval '2 hours', 3)`);
    // The clean-up is the built-in schedule row (hourly); two instances firing the same hour make one job.
    await ensureBuiltinSchedules(t.db, 30);
    const cleanup = (await getScheduleByName(t.db, CLEANUP_SCHEDULE)) as Schedule;
    expect(cleanup).toMatchObject({ kind: 'jobs_cleanup', builtin: true, payload: { olderThanDays: 30 } });
    const hour = new Date('2026-11-25T02:00:00.000Z');
    const [a, b] = await Promise.all([
      fireSchedule(t.db, handlers, cleanup, hour, 'scheduled'),
      fireSchedule(t.db, handlers, cleanup, hour, 'scheduled'),
    ]);
    expect([a.outcome, b.outcome].sort()).toEqual(['duplicate', 'fired']);
    const id = (a.jobId ?? b.jobId) as number;
    runner = testRunner(t.db, handlers);
    await runner.start();
    expect(await waitForStatus(t.db, id, ['succeeded', 'failed'], 20_000)).toMatchObject({
      status: 'succeeded',
      requestedBy: `schedule:${CLEANUP_SCHEDULE}`,
      result: { jobs: 30, inbound: 7 },
    });
    // The same hour again (an instance that woke late): nothing new.
    expect((await fireSchedule(t.db, handlers, cleanup, hour, 'scheduled')).outcome).toBe('duplicate');
    const left = await t.db.query<{ kind: string; n: number }>(`select kind, count(*)::int as n from jobs group by kind order by kind`);
    expect(left).toEqual([
      { kind: 'jobs_cleanup', n: 1 },
      { kind: 'recent', n: 5 },
    ]);
    expect((await t.db.query(`select count(*)::int as n from inbound_messages`))[0]).toEqual({ n: 0 });
    expect((await t.db.query(`select count(*)::int as n from rate_limits`))[0]).toEqual({ n: 0 });
    // The next hour makes the next one.
    const next = await fireSchedule(t.db, handlers, cleanup, new Date(hour.getTime() + 3_600_000), 'scheduled');
    expect(next.outcome).toBe('fired');
    expect(await getJob(t.db, next.jobId as number)).toMatchObject({ kind: 'jobs_cleanup', payload: { olderThanDays: 30 } });
  });
});
