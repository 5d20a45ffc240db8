import type { Database } from '../db/client';
import { PermanentJobError } from '../errors';
import type { Translator } from '../i18n';
import { defineJob, type JobDefinition } from '../jobs/types';
import { aggregate, analyzeAnswer, type Brand } from './analysis';
import { loadAnswers, saveOutcome } from './answers';
import { type CallTask, createCallGates, runCalls } from './call-scheduler';
import { callChatCompletion } from './chat-client';
import type { ModelSet } from './models';
import { buildReportSheets, type ReportPublisher } from './report';
import { DIAGNOSIS_KIND, type DiagnosisPayload, type DiagnosisResult } from './types';

export { DIAGNOSIS_KIND, type DiagnosisPayload, type DiagnosisResult } from './types';

import { describeDiagnosis } from './summary';

export interface DiagnosisJobEnv {
  models: ModelSet;
  config: { DIAGNOSIS_CONCURRENCY: number; DIAGNOSIS_SOFT_TIMEOUT_MS: number; DIAGNOSIS_HARD_TIMEOUT_MS: number };
  t: Translator;
  fetch: typeof fetch;
  /** Where the .xlsx goes and the link it is served under; without it the run has no report. */
  reports?: ReportPublisher;
}

/** The key of a brand set: the own brand first, then the others in any order, case- and width-blind. */
export function brandKeyOf(brands: readonly Brand[]): string {
  const norm = (b: Brand) => b.name.normalize('NFKC').toLowerCase();
  const [own, ...rest] = brands;
  return [own ? norm(own) : '', ...rest.map(norm).sort()].join('|');
}

async function previousRun(db: Database, brandKey: string, jobId: number): Promise<DiagnosisResult['previous']> {
  const rows = await db.query<{ id: number; finished_at: Date | string | null; result: DiagnosisResult }>(
    `select id, finished_at, result from jobs
      where kind = $1 and status = 'succeeded' and payload->>'brandKey' = $2 and id <> $3
      order by finished_at desc nulls last, id desc limit 1`,
    [DIAGNOSIS_KIND, brandKey, jobId],
  );
  const r = rows[0];
  if (!r?.result?.overall) return undefined;
  const at = r.finished_at === null ? null : new Date(r.finished_at).toISOString();
  return { jobId: Number(r.id), finishedAt: at, overall: r.result.overall };
}

/**
 * The diagnosis job: ask every model every question (only the calls not answered yet), storing
 * each answer as it arrives, then analyse all answers, compare with the previous run of the same
 * brand set and publish the .xlsx report. Some calls failing is a result with warnings; all
 * failing is a failure.
 */
export function createDiagnosisJob(env: DiagnosisJobEnv): JobDefinition<DiagnosisPayload, DiagnosisResult> {
  const { t } = env;
  // One set of slots and rate windows for every diagnosis this process runs.
  const gates = createCallGates(env.config.DIAGNOSIS_CONCURRENCY);
  return defineJob<DiagnosisPayload, DiagnosisResult>({
    kind: DIAGNOSIS_KIND,
    concurrency: 4,
    maxAttempts: 3,
    softTimeoutMs: env.config.DIAGNOSIS_SOFT_TIMEOUT_MS,
    hardTimeoutMs: env.config.DIAGNOSIS_HARD_TIMEOUT_MS,
    retry: { backoff: 'exponential', baseMs: 5000, maxMs: 60_000, jitter: 0.2 },
    async run(p, { job, db, signal, progress, log }) {
      const startedAt = Date.now();
      const missing = p.models.filter((m) => !env.models.get(m));
      if (missing.length) throw new PermanentJobError(t('diagnose.modelGone', { models: missing.join(', ') }));
      const models = p.models.map((m) => env.models.get(m)).filter((m) => m !== undefined);
      const total = p.questions.length * models.length;
      const done = new Set((await loadAnswers(db, job.id)).filter((a) => a.ok).map((a) => `${a.model}\u0000${a.questionIndex}`));
      const tasks: CallTask[] = [];
      for (let q = 0; q < p.questions.length; q++) {
        for (const m of models) if (!done.has(`${m.name}\u0000${q}`)) tasks.push({ model: m.name, questionIndex: q });
      }
      let ended = total - tasks.length;
      if (ended > 0) log.info({ answered: ended, remaining: tasks.length }, 'resuming: only the calls not answered yet');
      progress((ended / total) * 100, t('diagnose.progress', { done: ended, total }));
      await runCalls({
        tasks,
        models,
        concurrency: env.config.DIAGNOSIS_CONCURRENCY,
        gates,
        signal,
        call: (task, s) => {
          const m = env.models.get(task.model);
          if (!m) throw new PermanentJobError(`model ${task.model} vanished`);
          return callChatCompletion(env.fetch, m, p.questions[task.questionIndex] ?? '', s);
        },
        async onDone(task, outcome) {
          await saveOutcome(db, job.id, task, outcome);
          ended += 1;
          progress((ended / total) * 100, t('diagnose.progress', { done: ended, total }));
        },
      });

      const stored = await loadAnswers(db, job.id);
      const answers = stored.filter((a) => a.ok && a.text !== null);
      const failures = stored.filter((a) => !a.ok);
      if (answers.length === 0) {
        const first = failures[0]?.error ?? 'no answers';
        throw new Error(t('diagnose.allFailed', { total, error: first.slice(0, 300) }));
      }
      const analysed = answers.map((a) => ({ ...a, text: a.text ?? '', mentions: analyzeAnswer(a.text ?? '', p.brands) }));
      const overall = aggregate(
        p.brands,
        analysed.map((a) => a.mentions),
      );
      const perModel = p.models.map((model) => ({
        model,
        stats: aggregate(
          p.brands,
          analysed.filter((a) => a.model === model).map((a) => a.mentions),
        ),
      }));
      const warnings = failures.map((f) =>
        t('diagnose.callFailed', { model: f.model, q: f.questionIndex + 1, error: (f.error ?? '').slice(0, 200) }),
      );
      const result: DiagnosisResult = {
        brands: p.brands,
        models: p.models,
        questions: p.questions,
        calls: total,
        answered: answers.length,
        failed: failures.length,
        overall,
        perModel,
        warnings,
        previous: await previousRun(db, p.brandKey, job.id),
        durationMs: Date.now() - (job.startedAt?.getTime() ?? startedAt),
      };
      if (env.reports) {
        try {
          const sheets = buildReportSheets(result, analysed, t);
          result.report = await env.reports.publish({ jobId: job.id, sheets, signal, db });
        } catch (err) {
          if (signal.aborted) throw err;
          // The figures are in the chat summary; a report that could not be written is a warning.
          log.warn({ err: (err as Error).message }, 'diagnosis report not written');
          result.reportError = (err as Error).message;
        }
      }
      return result;
    },
    describe: (r, tr) => describeDiagnosis(r, tr),
  });
}
