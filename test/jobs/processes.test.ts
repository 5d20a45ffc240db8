import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, enqueueMany } from '../../src/jobs/queue';
import { getJob } from '../../src/jobs/reads';
import { NODE_ARGS, ROOT } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { waitUntil } from '../helpers/fake-dingtalk';
import { waitForStatus } from '../helpers/jobs';

// Real runner processes sharing one Postgres database.
let t: TestDb;
const children = new Set<ChildProcess>();

function startRunner(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'test/fixtures/runner-process.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: t.url as string, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c) => {
      out += c;
      if (out.includes('ready')) resolve(child);
    });
    child.stderr?.on('data', (c) => (out += c));
    child.on('exit', (code) => reject(new Error(`runner exited ${code}: ${out}`)));
  });
}
/** Resolves when the child prints `line` (its own stdout), or rejects if it exits first. */
const printed = (c: ChildProcess, line: string) =>
  new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes(`${line}\n`)) {
        c.stdout?.off('data', onData);
        resolve();
      }
    };
    c.stdout?.on('data', onData);
    c.once('exit', (code) => reject(new Error(`exited ${code} before printing ${line}`)));
  });
const exited = (c: ChildProcess) =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
const executions = (jobId: number) =>
  t.db.query<{ worker: string; phase: string }>('select worker, phase from test_executions where job_id = $1 order by id', [jobId]);

beforeAll(async () => {
  t = await createTestDb('postgres');
  await t.db.query(
    'create table test_executions (id bigserial primary key, job_id bigint not null, worker text not null, phase text not null)',
  );
});
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  await t.db.query('delete from jobs');
  await t.db.query('delete from test_executions');
});
afterAll(async () => t?.drop());

describe('runner processes sharing one database', () => {
  it('two processes drain 5,000 jobs, each run exactly once', async () => {
    await enqueueMany(
      t.db,
      Array.from({ length: 5000 }, (_, i) => ({ kind: 'test_record', payload: { i } })),
    );
    const [a, b] = await Promise.all([startRunner({ WORKER: 'A' }), startRunner({ WORKER: 'B' })]);
    await waitUntil(
      async () =>
        Number((await t.db.query<{ n: number }>(`select count(*)::int as n from jobs where status = 'succeeded'`))[0]?.n) === 5000,
      60_000,
      '5,000 jobs succeeded',
    );
    const [stats] = await t.db.query<{ runs: number; distinct_jobs: number; a: number; b: number }>(
      `select count(*)::int as runs, count(distinct job_id)::int as distinct_jobs,
              count(*) filter (where worker = 'A')::int as a, count(*) filter (where worker = 'B')::int as b
         from test_executions`,
    );
    expect(stats).toMatchObject({ runs: 5000, distinct_jobs: 5000 });
    expect(stats?.a).toBeGreaterThan(0);
    expect(stats?.b).toBeGreaterThan(0);
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    expect(await Promise.all([exited(a), exited(b)])).toEqual([0, 0]);
  });

  it('a runner killed with SIGKILL mid-job: another takes the job over after the lease expires', async () => {
    const victim = await startRunner({ WORKER: 'victim', LEASE_MS: '2000' });
    const { job } = await enqueue(t.db, { kind: 'test_slow', payload: { ms: 1500 }, maxAttempts: 3 });
    await waitUntil(async () => (await executions(job.id)).length > 0, 10_000, 'job started');
    victim.kill('SIGKILL');
    await exited(victim);
    const rescuer = await startRunner({ WORKER: 'rescuer', LEASE_MS: '2000' });
    const done = await waitForStatus(t.db, job.id, ['succeeded', 'failed'], 20_000);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, result: { worker: 'rescuer' } });
    expect(await executions(job.id)).toEqual([
      { worker: 'victim', phase: 'started' },
      { worker: 'rescuer', phase: 'started' },
      { worker: 'rescuer', phase: 'finished' },
    ]);
    rescuer.kill('SIGTERM');
    await exited(rescuer);
  });

  it('SIGTERM during a job: the job completes within the grace period', async () => {
    const r = await startRunner({ WORKER: 'graceful', GRACE_MS: '10000' });
    const { job } = await enqueue(t.db, { kind: 'test_slow', payload: { ms: 1000 } });
    await waitUntil(async () => (await executions(job.id)).length > 0, 10_000, 'job started');
    r.kill('SIGTERM');
    expect(await exited(r)).toBe(0);
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('SIGTERM during a job that outlasts the grace period: released, then finished by another runner', async () => {
    const r = await startRunner({ WORKER: 'impatient', GRACE_MS: '300' });
    const { job } = await enqueue(t.db, { kind: 'test_slow', payload: { ms: 3000 } });
    await waitUntil(async () => (await executions(job.id)).length > 0, 10_000, 'job started');
    r.kill('SIGTERM');
    expect(await exited(r)).toBe(0);
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'queued', attempts: 0 });
    const next = await startRunner({ WORKER: 'next' });
    expect(await waitForStatus(t.db, job.id, ['succeeded'], 20_000)).toMatchObject({ attempts: 1, result: { worker: 'next' } });
    next.kill('SIGTERM');
    await exited(next);
  });

  it('a second signal exits at once instead of waiting out the grace period', async () => {
    const r = await startRunner({ WORKER: 'stubborn', GRACE_MS: '60000' });
    const { job } = await enqueue(t.db, { kind: 'test_slow', payload: { ms: 30_000 } });
    await waitUntil(async () => (await executions(job.id)).length > 0, 10_000, 'job started');
    const started = Date.now();
    const stopping = printed(r, 'stopping');
    r.kill('SIGTERM');
    await stopping; // the first signal was handled: the runner is waiting out its grace period
    expect(r.exitCode).toBeNull();
    r.kill('SIGTERM');
    expect(await exited(r)).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
