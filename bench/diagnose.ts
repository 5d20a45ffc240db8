import pino from 'pino';
import postgres from 'postgres';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/client';
import { migrateDb } from '../src/db/migrate';
import { loadAnswers } from '../src/diagnosis/answers';
import { createDiagnosisJob } from '../src/diagnosis/diagnosis-job';
import { parseModels } from '../src/diagnosis/models';
import { submitDiagnosis, validateDiagnosis } from '../src/diagnosis/submit-diagnosis';
import { createTranslator } from '../src/i18n';
import { getJob } from '../src/jobs/reads';
import { createRunner } from '../src/jobs/runner';
import { startFakeOpenAI } from '../test/diagnosis/fake-openai';

// `npm run bench -- diagnose`: 10 questions × 5 models against the local fake OpenAI-compatible
// server answering after 2 s, each model with concurrency 4; the whole job (runner, Postgres writes,
// analysis) on the local Postgres. Three rounds, median reported.
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const QUESTIONS = 10;
const MODELS = 5;
const PER_MODEL = 4;
const ANSWER_MS = 2000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const round = (n: number, d = 1) => Number(n.toFixed(d));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function run() {
  const llm = await startFakeOpenAI(({ question }) => ({ delayMs: ANSWER_MS, text: `${question}：推荐趣车良品，其次竞品A和竞品B` }));
  const names = Array.from({ length: MODELS }, (_, i) => `m${i + 1}`);
  const modelsJson = JSON.stringify(
    Object.fromEntries(names.map((n) => [n, { baseUrl: llm.url, model: n, concurrency: PER_MODEL, rpm: 1000 }])),
  );
  const config = loadConfig({ DIAGNOSIS_MODELS: modelsJson });
  const admin = postgres(`${PG}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe('drop database if exists chatops_bench_diagnose with (force)');
  await admin.unsafe('create database chatops_bench_diagnose');
  const db = await createDb({ url: `${PG}/chatops_bench_diagnose`, poolSize: 10 });
  await migrateDb(db);
  const models = parseModels(modelsJson, 'bench');
  const job = createDiagnosisJob({ models, config, t: createTranslator('zh-CN'), fetch });
  const runner = createRunner({
    db,
    log: pino({ level: 'silent' }),
    definitions: [job],
    concurrency: 1,
    leaseMs: 30_000,
    pollIntervalMs: 1000,
  });
  await runner.start();

  const calls = QUESTIONS * MODELS;
  const totalConcurrency = Math.min(config.DIAGNOSIS_CONCURRENCY, MODELS * PER_MODEL);
  // The issue's bound: calls ÷ total concurrency × answer time. Each model has only its own 10 calls
  // and 4 slots, so ⌈10/4⌉ = 3 rounds of 2 s is the least any schedule can take.
  const issueBoundMs = (calls / totalConcurrency) * ANSWER_MS;
  const achievableBoundMs = Math.ceil(QUESTIONS / PER_MODEL) * ANSWER_MS;
  const walls: number[] = [];
  const handlerWalls: number[] = [];
  const overheads: number[] = [];
  const spec = validateDiagnosis(
    { brands: ['趣车良品', '竞品A', '竞品B'], models: names, questions: Array.from({ length: QUESTIONS }, (_, i) => `问题${i + 1}`) },
    models,
  );
  for (let r = 0; r < ROUNDS; r++) {
    llm.calls.length = 0;
    const t0 = performance.now();
    const { job: j } = await submitDiagnosis({ db, jobDefinitions: [job], config }, spec, { key: 'bench', role: 'admin' });
    for (;;) {
      const cur = await getJob(db, j.id);
      if (cur?.status === 'succeeded' || cur?.status === 'failed') {
        if (cur.status === 'failed') throw new Error(`diagnosis failed: ${cur.error}`);
        walls.push(performance.now() - t0);
        handlerWalls.push((cur.finishedAt?.getTime() ?? 0) - (cur.startedAt?.getTime() ?? 0));
        break;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
    if (llm.calls.length !== calls) throw new Error(`expected ${calls} calls, the server saw ${llm.calls.length}`);
    const answers = await loadAnswers(db, j.id);
    // Per call: what the client waited beyond the server's 2 s (HTTP, JSON, scheduling of that call).
    overheads.push(answers.reduce((s, a) => s + (a.latencyMs ?? 0) - ANSWER_MS, 0) / answers.length);
  }
  await runner.stop(1000);
  await db.close();
  await admin.unsafe('drop database if exists chatops_bench_diagnose with (force)');
  await admin.end();
  await llm.close();
  const wall = median(walls);
  return {
    setup: {
      questions: QUESTIONS,
      models: MODELS,
      perModelConcurrency: PER_MODEL,
      globalConcurrency: config.DIAGNOSIS_CONCURRENCY,
      answerMs: ANSWER_MS,
      calls,
      rounds: ROUNDS,
    },
    wallMs: round(wall, 0),
    handlerWallMs: median(handlerWalls),
    issueLowerBoundMs: issueBoundMs,
    achievableLowerBoundMs: achievableBoundMs,
    wallOverIssueBound: round(wall / issueBoundMs, 3),
    wallOverAchievableBound: round(wall / achievableBoundMs, 3),
    overheadPerCallMs: round(median(overheads), 2),
    totalOverheadMs: round(wall - achievableBoundMs, 0),
    peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
    note: 'peak RSS is the whole benchmark process: runner, Postgres client and the fake server together',
  };
}
