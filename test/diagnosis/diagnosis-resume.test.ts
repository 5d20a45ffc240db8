import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAnswers } from '../../src/diagnosis/answers';
import { parseModels } from '../../src/diagnosis/models';
import { submitDiagnosis, validateDiagnosis } from '../../src/diagnosis/submit-diagnosis';
import { NODE_ARGS, ROOT } from '../helpers/cli';
import { createTestDb, type TestDb } from '../helpers/db';
import { testDeps } from '../helpers/deps';
import { waitUntil } from '../helpers/fake-dingtalk';
import { waitForStatus } from '../helpers/jobs';
import { type FakeOpenAI, fakeModels, startFakeOpenAI } from './fake-openai';

// A runner process killed in the middle of a diagnosis: another takes the job over and makes only
// the calls that had no stored answer.
let t: TestDb;
let llm: FakeOpenAI;
let models: string;
const children = new Set<ChildProcess>();

function startRunner(worker: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...NODE_ARGS, path.join(ROOT, 'test/diagnosis/fixtures/diagnosis-runner.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: t.url as string, DIAGNOSIS_MODELS: models, WORKER: worker, LEASE_MS: '2000' },
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
const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));

beforeAll(async () => {
  llm = await startFakeOpenAI(({ question }) => ({ delayMs: 300, text: `${question}: 趣车良品` }));
  models = fakeModels(llm.url, ['doubao', 'qwen'], { concurrency: 2 });
  t = await createTestDb('postgres');
});
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
});
afterAll(async () => {
  await t?.drop();
  await llm?.close();
});

describe('a diagnosis whose runner dies', () => {
  it('is taken over and makes only the calls not yet answered', async () => {
    const deps = testDeps(t.db, { DIAGNOSIS_MODELS: models });
    const questions = Array.from({ length: 8 }, (_, i) => `Q${i + 1}`);
    const spec = validateDiagnosis({ brands: ['趣车良品', '竞品A'], models: ['doubao', 'qwen'], questions }, parseModels(models, 'test'));
    const { job } = await submitDiagnosis(deps, spec, { key: 'alice', role: 'operator' });
    const victim = await startRunner('victim');
    await waitUntil(async () => (await loadAnswers(t.db, job.id)).length >= 4, 20_000, 'four answers stored');
    victim.kill('SIGKILL');
    await exited(victim);
    const killedAt = performance.now();
    const before = (await loadAnswers(t.db, job.id)).filter((a) => a.ok);
    expect(before.length).toBeGreaterThanOrEqual(4);
    expect(before.length).toBeLessThan(16);

    await startRunner('rescuer');
    const done = await waitForStatus(t.db, job.id, ['succeeded', 'failed'], 30_000);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    const answered = new Set(before.map((a) => `${a.model}/${questions[a.questionIndex]}`));
    const after = llm.calls.filter((c) => c.startedAt > killedAt).map((c) => `${c.model}/${c.question}`);
    // Exactly the calls without an answer, once each.
    expect(after.sort()).toEqual(
      spec.models
        .flatMap((m) => questions.map((q) => `${m.name}/${q}`))
        .filter((k) => !answered.has(k))
        .sort(),
    );
    const all = await loadAnswers(t.db, job.id);
    expect(all.filter((a) => a.ok)).toHaveLength(16);
    expect((done.result as { answered: number }).answered).toBe(16);
  });
});
