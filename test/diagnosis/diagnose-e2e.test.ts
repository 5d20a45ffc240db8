import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/chat/dispatch';
import { loadAnswers } from '../../src/diagnosis/answers';
import type { DiagnosisResult } from '../../src/diagnosis/types';
import { getJob } from '../../src/jobs/reads';
import type { RunningServer } from '../../src/server';
import { createLocalChat, type LocalChat } from '../../tools/local-chat';
import { createTestDb, type TestDb } from '../helpers/db';
import { TEST_SECRET, testDeps, testServer } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { waitForStatus } from '../helpers/jobs';
import { type FakeOpenAI, fakeModels, startFakeOpenAI } from './fake-openai';

// /diagnose end to end: chat callback -> job -> the local OpenAI-compatible server -> analysis -> chat.
let t: TestDb;
let server: RunningServer;
let chat: LocalChat;
let llm: FakeOpenAI;

// Scripted answers with known mentions (趣车良品 has the alias QCLP).
const ANSWERS: Record<string, Record<string, string>> = {
  doubao: { Q1: '推荐趣车良品，其次竞品A', Q2: 'QCLP 和 竞品B 都可以', Q3: '竞品A 最好' },
  qwen: { Q1: '竞品A、趣车良品', Q2: '都不错', Q3: '竞品B 然后 趣车良品 趣车良品' },
};

const scripted = ({ model, question }: { model: string; question: string }) =>
  model === 'slow' ? { hang: true } : { delayMs: 20, text: ANSWERS[model]?.[question] ?? '无' };

const isNotification = (s: string) => /^#### [✅❌⏹] 任务 #/.test(s) || /^任务 #\d+（[^）]*）进度/.test(s);
async function say(text: string) {
  const from = chat.replies.length;
  await chat.send(text);
  return (await chat.waitFor((r) => !isNotification(r.text), 20_000, from)).text;
}
const jobIdIn = (text: string) => Number(/#(\d+)/.exec(text)?.[1]);

beforeAll(async () => {
  llm = await startFakeOpenAI(scripted);
  t = await createTestDb('postgres');
  server = await testServer(t.db, {
    DIAGNOSIS_MODELS: fakeModels(llm.url, ['doubao', 'qwen', 'slow'], { concurrency: 2 }),
    PROGRESS_INTERVAL_MS: '0',
  });
  chat = await createLocalChat({ url: server.url, secret: TEST_SECRET, staffId: 'alice', nick: 'Alice' });
});
afterAll(async () => {
  await chat?.close();
  await server?.stop();
  await t?.drop();
  await llm?.close();
});

describe('/diagnose through the chat callback', () => {
  it('3 questions × 2 models: six calls, a summary whose figures match the scripted answers', async () => {
    llm.calls.length = 0;
    const ack = await say('/diagnose brands=趣车良品|QCLP,竞品A,竞品B models=doubao,qwen\nQ1\nQ2\nQ3');
    expect(ack).toContain('品牌诊断任务 #');
    expect(ack).toContain('3 个问题 × 2 个模型 = 6 次调用');
    expect(ack).toMatch(/预计约 \d/);
    const id = jobIdIn(ack);
    const final = await chat.waitFor((r) => r.text.startsWith(`#### ✅ 任务 #${id}`) || r.text.startsWith(`#### ❌ 任务 #${id}`), 30_000);
    expect(final.text).toContain('已完成');
    expect(llm.calls).toHaveLength(6);
    expect(new Set(llm.calls.map((c) => `${c.model}/${c.question}`)).size).toBe(6);
    expect(llm.calls.every((c) => c.authorization === `Bearer key-${c.model}`)).toBe(true);
    // 趣车良品: 4/6 answers, ranks 1,1,2,2, first twice, 5 of 10 mentions.
    expect(final.text).toContain('趣车良品 提及率 67%，领先所有竞品（平均排名 1.5；其次是 竞品A 50%）');
    expect(final.text).toContain('- **趣车良品** 提及 67% · 平均排名 1.5 · 首位 33% · 声量 50%');
    expect(final.text).toContain('- **竞品A** 提及 50% · 平均排名 1.3 · 首位 33% · 声量 30%');
    expect(final.text).toContain('- **竞品B** 提及 33% · 平均排名 1.5 · 首位 17% · 声量 20%');
    expect(final.text).toContain('- doubao：提及 67% · 平均排名 1.0');
    expect(final.text).toContain('- qwen：提及 67% · 平均排名 2.0');
    // Every answer is stored with what the response said about itself.
    const stored = await loadAnswers(t.db, id);
    expect(stored).toHaveLength(6);
    expect(stored.find((a) => a.model === 'doubao' && a.questionIndex === 1)).toMatchObject({
      ok: true,
      text: 'QCLP 和 竞品B 都可以',
      modelVersion: 'doubao-2026-01',
      promptTokens: 2,
      completionTokens: 'QCLP 和 竞品B 都可以'.length,
    });
    expect(stored.every((a) => (a.latencyMs ?? -1) >= 0)).toBe(true);

    // The report: a signed link in the summary; its cells say what the answers say.
    const link = /\[(品牌诊断-\d+\.xlsx)\]\((\S+)\)/.exec(final.text);
    expect(link?.[1]).toBe(`品牌诊断-${id}.xlsx`);
    const res = await fetch(`${server.url}${new URL(link?.[2] ?? '').pathname}${new URL(link?.[2] ?? '').search}`);
    expect(res.status).toBe(200);
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    expect(wb.worksheets.map((w) => w.name)).toEqual(['汇总', '按模型', '全部回答']);
    const rows = (name: string) => (wb.getWorksheet(name)?.getSheetValues() ?? []).filter(Boolean).map((r) => (r as unknown[]).slice(1));
    expect(rows('汇总')).toEqual([
      ['品牌', '提及率', '平均排名', '首位率', '声量份额', '提及次数', '回答数'],
      ['趣车良品', 0.6667, 1.5, 0.3333, 0.5, 5, 6],
      ['竞品A', 0.5, 1.33, 0.3333, 0.3, 3, 6],
      ['竞品B', 0.3333, 1.5, 0.1667, 0.2, 2, 6],
    ]);
    expect(rows('按模型')).toContainEqual(['qwen', '趣车良品', 0.6667, 2, 0, 0.6, 3, 3]);
    const answers = rows('全部回答');
    expect(answers).toHaveLength(7);
    expect(answers[0]?.slice(7, 13)).toEqual(['趣车良品 次数', '趣车良品 排名', '竞品A 次数', '竞品A 排名', '竞品B 次数', '竞品B 排名']);
    const q3qwen = answers.find((r) => r[0] === 'qwen' && r[1] === 3);
    expect(q3qwen?.slice(2, 4)).toEqual(['Q3', 'qwen-2026-01']);
    expect(q3qwen?.slice(7)).toEqual([2, 2, 0, undefined, 1, 1, '竞品B 然后 趣车良品 趣车良品']);

    // Status from chat, and the same brand set again: the summary shows the change since then.
    const status = await say(`/diagnose status ${id}`);
    expect(status).toContain(`品牌诊断 #${id}：✅ 已完成`);
    expect(status).toContain('6/6 次调用');
    llm.setScript(({ model, question }) => ({ text: model === 'doubao' && question === 'Q3' ? '竞品A' : '竞品A 和 趣车良品' }));
    const id2 = jobIdIn(await say('/diagnose brands=趣车良品,竞品B,竞品A models=doubao,qwen\nQ1\nQ2\nQ3'));
    const second = await chat.waitFor(
      (r) => r.text.startsWith(`#### ✅ 任务 #${id2}`) || r.text.startsWith(`#### ❌ 任务 #${id2}`),
      30_000,
    );
    // 趣车良品 in 5/6 now, 4/6 before: up 17 points.
    expect(second.text).toContain('- **趣车良品** 提及 83% (↑17)');
    expect(second.text).toContain(`#${id}`);
    const history = await say('/diagnose history');
    expect(history).toContain(`#${id2} 趣车良品、竞品B、竞品A`);
    expect(history).toContain('趣车良品 提及率 83%');
  });

  it('cancel in the middle: calls in flight aborted, no further calls, status cancelled', async () => {
    llm.calls.length = 0;
    llm.setScript(scripted);
    const ack = await say('/diagnose brands=趣车良品,竞品A models=slow\nA\nB\nC\nD\nE');
    const id = jobIdIn(ack);
    await waitUntil(() => llm.calls.length === 2, 15_000, 'two calls in flight (concurrency 2)');
    const reply = await say(`/diagnose cancel ${id}`);
    expect(reply).toContain(`已请求取消正在运行的任务 #${id}`);
    const job = await waitForStatus(t.db, id, ['cancelled', 'failed', 'succeeded'], 15_000);
    expect(job.status).toBe('cancelled');
    await waitUntil(() => llm.calls.every((c) => c.aborted), 5000, 'the server to see both calls dropped');
    expect(llm.calls).toHaveLength(2);
    expect(llm.openCount()).toBe(0);
  });
});

describe('/diagnose validation and /models', () => {
  const alice = { key: 'alice', nick: 'Alice', role: 'operator' as const };
  const run = async (deps: ReturnType<typeof testDeps>, text: string) => {
    const r = await dispatch(deps, { source: 'cli', caller: alice, text, rateLimit: false });
    return { ...r, text: r.messages.map((m) => ('text' in m ? m.text : '')).join('\n') };
  };

  it('with no models configured, says exactly what to set', async () => {
    const deps = testDeps(t.db);
    const r = await run(deps, '/diagnose brands=A,B models=doubao\n问题');
    expect(r.outcome).toBe('bad_args');
    expect(r.text).toContain('DIAGNOSIS_MODELS');
    expect(r.text).toContain('DIAGNOSIS_MODELS_FILE');
    expect(r.text).toContain('"baseUrl"');
    expect((await run(deps, '/models')).text).toContain('DIAGNOSIS_MODELS');
  });

  it.each([
    ['/diagnose models=doubao\nQ', 'brands', '缺少品牌'],
    ['/diagnose brands=A,B,C,D,E,F,G,H,I,J,K models=doubao\nQ', 'brands', '最多 10 个，收到 11 个'],
    ['/diagnose brands=A,a models=doubao\nQ', 'brands', '重复'],
    ['/diagnose brands=A,B models=gpt9\nQ', 'models', '没有模型“gpt9”。可用的模型：doubao, qwen, slow'],
    ['/diagnose brands=A,B\nQ', 'models', '缺少模型'],
    ['/diagnose brands=A,B models=doubao', 'q', '缺少问题'],
    [`/diagnose brands=A models=doubao\n${Array.from({ length: 21 }, (_, i) => `Q${i}`).join('\n')}`, 'q', '最多 20 个，收到 21 个'],
    ['/diagnose brands=A models=doubao priority=11\nQ', 'priority', 'priority'],
  ])('%s → names %s', async (text, field, says) => {
    const before = await t.db.query<{ n: number }>('select count(*)::int as n from jobs');
    const r = await run(server.deps, text);
    expect(r.outcome).toBe('bad_args');
    expect(r.field).toBe(field);
    expect(r.text).toContain(says);
    const after = await t.db.query<{ n: number }>('select count(*)::int as n from jobs');
    expect(after[0]?.n).toBe(before[0]?.n); // nothing changes
  });

  it('/models lists names and limits, never keys or URLs', async () => {
    const r = await run(server.deps, '/models');
    expect(r.text).toContain('doubao（doubao）· 并发 2');
    expect(r.text).not.toContain('key-doubao');
    expect(r.text).not.toContain('127.0.0.1');
  });

  it('q= gives a single question; the job payload holds the parsed brands with aliases', async () => {
    const r = await run(server.deps, '/diagnose brands=趣车良品|QCLP,竞品A models=doubao q="深圳新能源汽车改装门店哪家好？"');
    expect(r.outcome).toBe('ok');
    const job = await waitForStatus(t.db, r.jobId as number, ['succeeded', 'failed'], 20_000);
    expect(job.payload).toMatchObject({
      brands: [
        { name: '趣车良品', aliases: ['QCLP'] },
        { name: '竞品A', aliases: [] },
      ],
      // The command line is width-normalised by the chat parser (？ → ?); body lines are kept as typed.
      questions: ['深圳新能源汽车改装门店哪家好?'],
    });
    expect((job.result as DiagnosisResult).calls).toBe(1);
    expect((await getJob(t.db, r.jobId as number))?.status).toBe('succeeded');
  });
});
