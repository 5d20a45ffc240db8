import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { countAnswered } from '../../src/diagnosis/answers';
import { createApiToken } from '../../src/http/tokens';
import { jobEventsOf } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { waitForStatus } from '../helpers/jobs';
import { type FakeOpenAI, fakeModels, startFakeOpenAI } from './fake-openai';

// The old brand-diagnosis HTTP API, kept: same paths and shapes, plus a bearer token and limits.
let t: TestDb;
let server: RunningServer;
let llm: FakeOpenAI;
let operator: string;
let viewer: string;
let env: Record<string, string>;

beforeAll(async () => {
  llm = await startFakeOpenAI(({ model, question }) =>
    model === 'slow'
      ? { hang: true }
      : model === 'broken'
        ? { status: 500 }
        : { delayMs: 10, text: `${question}：推荐趣车良品，其次竞品A` },
  );
  t = await createTestDb('postgres');
  env = {
    DIAGNOSIS_MODELS: fakeModels(llm.url, ['doubao', 'qwen', 'slow', 'broken'], { maxRetries: 0 }),
    DIAGNOSIS_API_RATE_LIMITS: '3,30,5,10',
  };
  server = await testServer(t.db, env);
  operator = await createApiToken(t.db, 'old-frontend', 'operator', 'test');
  viewer = await createApiToken(t.db, 'dashboard', 'viewer', 'test');
});
afterAll(async () => {
  await server?.stop();
  await t?.drop();
  await llm?.close();
});

const call = (method: string, path: string, token: string | null, body?: unknown, base = server.url) =>
  fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const json = (r: Response | undefined): Promise<any> => (r as Response).json();
const submit = (token: string | null, body: unknown) => call('POST', '/api/perform-brand-test-async', token, body);

describe('the old-compatible diagnosis API', () => {
  it('submit → queued with execution_id and estimate; status → completed with the result', async () => {
    const res = await submit(operator, {
      brand_list: ['趣车良品', '竞品A', '竞品B'],
      selectedModels: [{ name: 'doubao' }, { name: 'qwen' }],
      customQuestions: ['深圳新能源汽车改装门店哪家好？'],
      priority: 5,
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      status: 'queued',
      execution_id: expect.stringMatching(/^\d+$/),
      message: '任务已提交，正在处理中',
      estimated_time: expect.any(Number),
    });
    await waitForStatus(t.db, Number(body.execution_id), ['succeeded', 'failed'], 20_000);
    const st = await call('GET', `/api/diagnosis/status/${body.execution_id}`, operator);
    expect(st.status).toBe(200);
    const s = await json(st);
    expect(Object.keys(s).sort()).toEqual(
      ['completed_at', 'created_at', 'error_message', 'execution_id', 'progress', 'result', 'started_at', 'status', 'task_type'].sort(),
    );
    expect(s).toMatchObject({
      execution_id: body.execution_id,
      status: 'completed',
      progress: 100,
      task_type: 'brand_diagnosis',
      error_message: null,
    });
    expect(s.completed_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(s.result.overall[0]).toMatchObject({ brand: '趣车良品', mentionRate: 1, averageRank: 1, firstPlaceRate: 1 });
    expect(s.result.overall[1]).toMatchObject({ brand: '竞品A', mentionRate: 1, averageRank: 2 });
    const job = await t.db.query<{ priority: number }>('select priority from jobs where id = $1', [Number(body.execution_id)]);
    expect(job[0]?.priority).toBe(5);
  });

  it('auth: no token 401, a viewer may read but not submit or cancel', async () => {
    const body = { brand_list: ['A'], selectedModels: [{ name: 'doubao' }], customQuestions: ['Q'] };
    expect((await submit(null, body)).status).toBe(401);
    expect((await submit('cob_wrong', body)).status).toBe(401);
    expect((await submit(viewer, body)).status).toBe(403);
    expect((await call('GET', '/api/diagnosis/statistics', viewer)).status).toBe(200);
    expect((await call('POST', '/api/diagnosis/cancel/1', viewer)).status).toBe(403);
    // Someone else's diagnosis reads as absent.
    expect((await call('GET', '/api/diagnosis/status/1', viewer)).status).toBe(404);
  });

  it('bad input names the field and enqueues nothing', async () => {
    const before = (await t.db.query<{ n: number }>('select count(*)::int as n from jobs'))[0]?.n;
    const cases: [unknown, string, RegExp][] = [
      // Missing, or of the wrong JSON type: what was expected, in the configured language (not zod's English).
      [
        { selectedModels: [{ name: 'doubao' }], customQuestions: ['Q'] },
        'brand_list',
        /^字段“brand_list”应为JSON 数组（\[…\]），例如：\{"brand_list"/,
      ],
      [{ brand_list: 'A', selectedModels: ['doubao'], customQuestions: ['Q'] }, 'brand_list', /应为JSON 数组/],
      [{ brand_list: ['A'], selectedModels: ['doubao'], customQuestions: ['Q'], priority: 'high' }, 'priority', /“priority”应为数字/],
      [{ brand_list: ['A'], selectedModels: [{ name: 'gpt9' }], customQuestions: ['Q'] }, 'selectedModels', /gpt9/],
      [{ brand_list: ['A'], selectedModels: [{ name: 'doubao' }], customQuestions: [] }, 'customQuestions', /问题/],
      [
        { brand_list: Array.from({ length: 11 }, (_, i) => `B${i}`), selectedModels: ['doubao'], customQuestions: ['Q'] },
        'brand_list',
        /10/,
      ],
    ];
    for (const [i, [body, field, msg]] of cases.entries()) {
      const res = await submit(await createApiToken(t.db, `bad-input-${i}`, 'operator', 'test'), body);
      expect(res.status).toBe(400);
      const j = await json(res);
      expect(j).toMatchObject({ ok: false, error: { code: 'bad_args', field } });
      expect(j.error.message).toMatch(msg);
    }
    expect((await t.db.query<{ n: number }>('select count(*)::int as n from jobs'))[0]?.n).toBe(before);
  });

  it('status while running shows answered calls as progress; cancel aborts the calls in flight', async () => {
    const token = await createApiToken(t.db, 'canceller', 'operator', 'test');
    llm.calls.length = 0;
    const res = await submit(token, {
      brand_list: ['A'],
      selectedModels: [{ name: 'slow' }, { name: 'doubao' }],
      customQuestions: ['Q1', 'Q2'],
    });
    const { execution_id } = await json(res);
    await waitUntil(
      async () => llm.calls.filter((x) => x.model === 'slow').length === 2 && (await countAnswered(t.db, Number(execution_id))) === 2,
      15_000,
      'doubao answered, both slow calls in flight',
    );
    expect(await json(await call('GET', `/api/diagnosis/status/${execution_id}`, token))).toMatchObject({
      status: 'running',
      progress: 50,
    });
    const c = await call('POST', `/api/diagnosis/cancel/${execution_id}`, token);
    expect(c.status).toBe(200);
    expect(await json(c)).toMatchObject({ execution_id, status: 'cancelling' });
    await waitForStatus(t.db, Number(execution_id), ['cancelled'], 15_000);
    await waitUntil(() => llm.calls.filter((x) => x.model === 'slow').every((x) => x.aborted), 5000, 'the calls dropped');
    expect(llm.calls).toHaveLength(4);
    const s = await json(await call('GET', `/api/diagnosis/status/${execution_id}`, token));
    expect(s).toMatchObject({ status: 'cancelled', progress: 50, result: null });
    const again = await call('POST', `/api/diagnosis/cancel/${execution_id}`, token);
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('conflict');
  });

  it('statistics: counts by status, average duration, per-model latency and error rate', async () => {
    const token = await createApiToken(t.db, 'stats', 'operator', 'test');
    const res = await submit(token, {
      brand_list: ['A'],
      selectedModels: [{ name: 'broken' }, { name: 'doubao' }],
      customQuestions: ['Q1', 'Q2'],
    });
    const { execution_id } = await json(res);
    await waitForStatus(t.db, Number(execution_id), ['succeeded', 'failed'], 20_000);
    // Some calls failing is a result with warnings.
    const st = await json(await call('GET', `/api/diagnosis/status/${execution_id}`, token));
    expect(st).toMatchObject({ status: 'completed', result: { calls: 4, answered: 2, failed: 2 } });
    expect(st.result.warnings).toHaveLength(2);
    expect(st.result.warnings[0]).toMatch(/^broken 第 \d 题：broken answered 500/);
    const s = await json(await call('GET', '/api/diagnosis/statistics', token));
    expect(s.by_status.completed).toBeGreaterThanOrEqual(2);
    expect(s.by_status.cancelled).toBeGreaterThanOrEqual(1);
    expect(s.total).toBe(Object.values(s.by_status as Record<string, number>).reduce((a, b) => a + b, 0));
    expect(s.average_duration_seconds).toBeGreaterThan(0);
    expect(s.models.find((m: { name: string }) => m.name === 'broken')).toMatchObject({
      calls: 2,
      failed: 2,
      error_rate: 1,
      average_latency_ms: null,
    });
    const doubao = s.models.find((m: { name: string }) => m.name === 'doubao');
    expect(doubao.error_rate).toBe(0);
    expect(doubao.average_latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('all calls failing is a failure', async () => {
    const token = await createApiToken(t.db, 'all-fail', 'operator', 'test');
    const { execution_id } = await json(await submit(token, { brand_list: ['A'], selectedModels: ['broken'], customQuestions: ['Q1'] }));
    const failed = await waitUntil(
      async () => (await jobEventsOf(t.db, Number(execution_id), 20)).find((e) => e.type === 'attempt_failed'),
      20_000,
      'the attempt to fail',
    );
    expect(failed.message).toContain('全部 1 次模型调用都失败了');
  });

  it('per-token limit shared by instances: over it → 429 with Retry-After', async () => {
    const token = await createApiToken(t.db, 'hammer', 'operator', 'test');
    const second = createApp(testDeps(t.db, env)); // another instance on the same database
    const body = { brand_list: ['A'], selectedModels: ['doubao'], customQuestions: ['Q'] };
    const statuses: number[] = [];
    let limited: Response | undefined;
    // Alternate between the instances until one says no (a minute boundary may reset the window once).
    for (let i = 0; i < 8 && !limited; i++) {
      const res =
        i % 2 === 0
          ? await submit(token, body)
          : await second.request('/api/perform-brand-test-async', {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body: JSON.stringify(body),
            });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    const retryAfter = Number(limited?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await json(limited)).error).toMatchObject({ code: 'rate_limited', message: expect.stringContaining('每分钟最多 3 次') });
  });
});
