import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEventsOf } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { type FakeOpenAI, fakeModels, startFakeOpenAI } from './fake-openai';

// Soft and hard timeouts (9 and 10 minutes by default; seconds here): a warning in chat, then the
// attempt is stopped and its calls in flight are aborted.
let t: TestDb;
let server: RunningServer;
let chat: LocalChat;
let llm: FakeOpenAI;

beforeAll(async () => {
  llm = await startFakeOpenAI(() => ({ hang: true }));
  t = await createTestDb('postgres');
  server = await testServer(t.db, {
    DIAGNOSIS_MODELS: fakeModels(llm.url, ['stuck'], { timeoutMs: 60_000 }),
    DIAGNOSIS_SOFT_TIMEOUT_MS: '1000',
    DIAGNOSIS_HARD_TIMEOUT_MS: '2000',
  });
  chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', nick: 'Alice' });
});
afterAll(async () => {
  await chat?.close();
  await server?.stop();
  await t?.drop();
  await llm?.close();
});

describe('diagnosis timeouts', () => {
  it('soft: a notice in chat; hard: the attempt fails and its calls are aborted', async () => {
    await chat.send('/diagnose brands=趣车良品 models=stuck\nQ1\nQ2');
    const ack = await chat.waitFor((r) => r.text.includes('品牌诊断任务 #'), 15_000);
    const id = Number(/#(\d+)/.exec(ack.text)?.[1]);
    const soft = await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('仍在进行中'), 15_000);
    expect(soft.text).toContain('品牌诊断');
    await waitUntil(
      async () => (await jobEventsOf(t.db, id, 20)).find((e) => e.type === 'attempt_failed' && e.message?.includes('hard timeout')),
      15_000,
      'the hard timeout',
    );
    await waitUntil(() => llm.calls.length >= 2 && llm.calls.slice(0, 2).every((c) => c.aborted), 5000, 'the calls in flight dropped');
    const retry = await chat.waitFor((r) => r.text.includes(`任务 #${id}`) && r.text.includes('自动重试'), 15_000);
    expect(retry.text).toContain('超过时限（2 秒）');
  });
});
