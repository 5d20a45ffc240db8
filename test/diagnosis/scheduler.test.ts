import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallGates, type CallOutcome, type CallTask, createCallGates, runCalls } from '../../src/diagnosis/call-scheduler';
import { callChatCompletion, parseRetryAfter } from '../../src/diagnosis/chat-client';
import { type ModelConfig, parseModels } from '../../src/diagnosis/models';
import { waitUntil } from '../helpers/fake-dingtalk';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai';

// The N × M runner against a local OpenAI-compatible server: limits judged from the server's record.
let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(async () => server?.close());

function model(name: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    name,
    baseUrl: server.url,
    model: name,
    apiKey: 'k',
    concurrency: 4,
    rpm: 1000,
    rateWindowMs: 60_000,
    timeoutMs: 5000,
    maxRetries: 3,
    ...over,
  };
}

async function run(models: ModelConfig[], questions: number, opts: { concurrency?: number; signal?: AbortSignal; gates?: CallGates } = {}) {
  const tasks: CallTask[] = [];
  for (let q = 0; q < questions; q++) for (const m of models) tasks.push({ model: m.name, questionIndex: q });
  const outcomes = new Map<string, CallOutcome>();
  const byName = new Map(models.map((m) => [m.name, m]));
  await runCalls({
    tasks,
    models,
    concurrency: opts.concurrency ?? 20,
    gates: opts.gates,
    signal: opts.signal ?? new AbortController().signal,
    backoff: { backoff: 'fixed', baseMs: 50, maxMs: 50, jitter: 0 },
    call: (t, s) => callChatCompletion(fetch, byName.get(t.model) as ModelConfig, `q${t.questionIndex}`, s),
    async onDone(t, o) {
      outcomes.set(`${t.model}/${t.questionIndex}`, o);
    },
  });
  return outcomes;
}

describe('runCalls', () => {
  it('never exceeds a model’s concurrency, its rate limit, or the global limit', async () => {
    server.calls.length = 0;
    server.setScript(() => ({ delayMs: 120 }));
    const a = model('lim-a', { concurrency: 2, rpm: 3, rateWindowMs: 1000 });
    const b = model('lim-b', { concurrency: 3 });
    const c = model('lim-c', { concurrency: 3 });
    const outcomes = await run([a, b, c], 7, { concurrency: 5 });
    expect(outcomes.size).toBe(21);
    expect([...outcomes.values()].every((o) => o.ok)).toBe(true);
    expect(server.calls).toHaveLength(21);
    expect(server.maxConcurrent('lim-a')).toBeLessThanOrEqual(2);
    expect(server.maxStartsInWindow('lim-a', 1000)).toBeLessThanOrEqual(3);
    expect(server.maxStartsInWindow('lim-a', 1000)).toBe(3); // the limit is used, not just respected
    expect(server.maxConcurrent('lim-b')).toBeLessThanOrEqual(3);
    expect(server.maxConcurrent('lim-c')).toBeLessThanOrEqual(3);
    // All models together: never more than the global limit open at once.
    const ev = server.calls.flatMap((x) => [
      [x.startedAt, 1],
      [x.endedAt ?? 0, -1],
    ]);
    ev.sort((p, q) => (p[0] as number) - (q[0] as number) || (p[1] as number) - (q[1] as number));
    let cur = 0;
    let max = 0;
    for (const [, d] of ev) {
      cur += d as number;
      max = Math.max(max, cur);
    }
    expect(max).toBeLessThanOrEqual(5);
    expect(max).toBeGreaterThanOrEqual(4);
  });

  it('two runs sharing the process’s gates keep a model within its limit together', async () => {
    server.calls.length = 0;
    server.setScript(() => ({ delayMs: 80 }));
    const gates = createCallGates(20);
    const m = model('shared', { concurrency: 2 });
    const [a, b] = await Promise.all([run([m], 5, { gates }), run([m], 5, { gates })]);
    expect(a.size + b.size).toBe(10);
    expect(server.calls).toHaveLength(10);
    expect(server.maxConcurrent('shared')).toBe(2);
    expect(gates.active).toBe(0);
    expect(gates.waiters.size).toBe(0);
  });

  it('retries 429 after the Retry-After the server named, and 500s, then answers', async () => {
    server.calls.length = 0;
    server.setScript(({ model: m, nth }) => {
      if (m === 'r-429' && nth === 1) return { status: 429, retryAfter: '1' };
      if (m === 'r-500' && nth <= 2) return { status: 500 };
      return {};
    });
    const outcomes = await run([model('r-429'), model('r-500')], 1);
    expect(outcomes.get('r-429/0')).toMatchObject({ ok: true, tries: 2 });
    expect(outcomes.get('r-500/0')).toMatchObject({ ok: true, tries: 3 });
    const c429 = server.calls.filter((c) => c.model === 'r-429');
    expect(c429.map((c) => c.status)).toEqual([429, 200]);
    // The backoff is 50 ms; the server asked for a second, and got it.
    expect((c429[1]?.startedAt ?? 0) - (c429[0]?.endedAt ?? 0)).toBeGreaterThanOrEqual(950);
    expect(server.calls.filter((c) => c.model === 'r-500').map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it('gives up after maxRetries, and does not retry a 400', async () => {
    server.calls.length = 0;
    server.setScript(({ model: m }) => (m === 'g-500' ? { status: 500 } : { status: 400 }));
    const outcomes = await run([model('g-500', { maxRetries: 1 }), model('g-400')], 1);
    expect(outcomes.get('g-500/0')).toMatchObject({ ok: false, tries: 2, retryable: true });
    expect(outcomes.get('g-400/0')).toMatchObject({ ok: false, tries: 1, retryable: false });
    expect(server.calls.filter((c) => c.model === 'g-500')).toHaveLength(2);
    expect(server.calls.filter((c) => c.model === 'g-400')).toHaveLength(1);
  });

  it('a call that takes too long is aborted at its timeout and retried', async () => {
    server.calls.length = 0;
    server.setScript(({ nth }) => (nth === 1 ? { hang: true } : { delayMs: 10 }));
    const outcomes = await run([model('slow', { timeoutMs: 300, maxRetries: 1 })], 1);
    expect(outcomes.get('slow/0')).toMatchObject({ ok: true, tries: 2 });
    await waitUntil(() => server.calls[0]?.aborted, 5000, 'the server to see the first call dropped');
    expect(server.calls.map((c) => c.aborted)).toEqual([true, false]);
  });

  it('abort: calls in flight are dropped, no further calls, rejects with the reason', async () => {
    server.calls.length = 0;
    server.setScript(() => ({ hang: true }));
    const ac = new AbortController();
    const p = run([model('cx', { concurrency: 3 })], 10, { signal: ac.signal });
    p.catch(() => {});
    await waitUntil(() => server.calls.length === 3, 5000, 'three calls in flight');
    ac.abort(new Error('cancelled by test'));
    await expect(p).rejects.toThrow('cancelled by test');
    await waitUntil(() => server.calls.every((c) => c.aborted), 5000, 'every call dropped');
    expect(server.calls).toHaveLength(3);
    expect(server.openCount()).toBe(0);
  });
});

describe('parseRetryAfter and parseModels', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it.each([
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after-ms': '1500', 'retry-after': '9' }, 1500],
    [{ 'retry-after': 'Wed, 25 Nov 2026 10:00:05 GMT' }, 5000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('%o -> %s', (headers, want) => {
    expect(parseRetryAfter(h(headers), Date.parse('2026-11-25T10:00:00Z'))).toBe(want);
  });

  it('reads models with defaults, and names every bad field without echoing keys', () => {
    const set = parseModels('{"deepseek":{"baseUrl":"https://api.deepseek.com/v1/","model":"deepseek-chat","apiKey":"sk-secret"}}', 'X');
    expect(set.get('DeepSeek')).toMatchObject({ baseUrl: 'https://api.deepseek.com/v1', concurrency: 4, rpm: 60, timeoutMs: 60_000 });
    let msg = '';
    try {
      parseModels('{"a":{"baseUrl":"ftp://x","model":"","apiKey":"sk-secret","concurrency":0}}', 'DIAGNOSIS_MODELS');
    } catch (err) {
      msg = String(err);
    }
    expect(msg).toContain('a.baseUrl');
    expect(msg).toContain('a.model');
    expect(msg).toContain('a.concurrency');
    expect(msg).not.toContain('sk-secret');
    expect(() => parseModels('not json', 'DIAGNOSIS_MODELS')).toThrow(/not valid JSON/);
  });
});
