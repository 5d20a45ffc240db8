import type { Database } from '../db/client';
import { UserError } from '../errors';
import { submitJob } from '../jobs/submit';
import type { AnyJobDefinition, Job } from '../jobs/types';
import type { Caller } from '../lib/roles';
import type { ReplyTarget } from '../outbound';
import { type Brand, parseBrand } from './analysis';
import { recentLatencies } from './answers';
import { brandKeyOf, DIAGNOSIS_KIND, type DiagnosisPayload } from './diagnosis-job';
import { MODELS_EXAMPLE, type ModelConfig, type ModelSet } from './models';

/** Limits of one diagnosis (the old system's). */
export const LIMITS = { brands: 10, questions: 20, questionLength: 500, brandLength: 50 } as const;

/** A diagnosis as typed in chat or posted to the API, before validation. */
export interface DiagnosisRequest {
  /** `趣车良品|QCLP` style specs; the first is the user's own brand. */
  brands: string[];
  models: string[];
  questions: string[];
  priority?: number;
}

/** A validated diagnosis. */
export interface DiagnosisSpec {
  brands: Brand[];
  models: ModelConfig[];
  questions: string[];
  priority: number;
}

/**
 * Check a request against the limits and the configured models. Throws a UserError naming the
 * field, what was expected and an example. Pure but for the model set it is given.
 */
export function validateDiagnosis(req: DiagnosisRequest, models: ModelSet): DiagnosisSpec {
  if (models.list.length === 0) throw new UserError('bad_args', 'diagnose.noModels', { example: MODELS_EXAMPLE }, 'models');
  const brands = req.brands.map((b) => b.trim()).filter(Boolean);
  if (brands.length === 0) throw new UserError('bad_args', 'diagnose.noBrands', {}, 'brands');
  if (brands.length > LIMITS.brands)
    throw new UserError('bad_args', 'diagnose.tooManyBrands', { n: brands.length, max: LIMITS.brands }, 'brands');
  const parsed = brands.map(parseBrand);
  for (const b of parsed) {
    for (const n of [b.name, ...b.aliases]) {
      if (n.length > LIMITS.brandLength)
        throw new UserError('bad_args', 'diagnose.brandTooLong', { brand: n, max: LIMITS.brandLength }, 'brands');
    }
  }
  const names = parsed.map((b) => b.name.normalize('NFKC').toLowerCase());
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UserError('bad_args', 'diagnose.duplicateBrand', { brand: dup }, 'brands');

  const wanted = [...new Set(req.models.map((m) => m.trim()).filter(Boolean))];
  const available = models.list.map((m) => m.name).join(', ');
  if (wanted.length === 0) throw new UserError('bad_args', 'diagnose.noModelsChosen', { available }, 'models');
  const unknown = wanted.filter((m) => !models.get(m));
  if (unknown.length) throw new UserError('bad_args', 'diagnose.unknownModel', { models: unknown.join(', '), available }, 'models');
  const chosen = wanted.map((m) => models.get(m)).filter((m) => m !== undefined);

  const questions = req.questions.map((q) => q.trim()).filter(Boolean);
  if (questions.length === 0) throw new UserError('bad_args', 'diagnose.noQuestions', {}, 'q');
  if (questions.length > LIMITS.questions)
    throw new UserError('bad_args', 'diagnose.tooManyQuestions', { n: questions.length, max: LIMITS.questions }, 'q');
  const long = questions.findIndex((q) => q.length > LIMITS.questionLength);
  if (long >= 0) throw new UserError('bad_args', 'diagnose.questionTooLong', { n: long + 1, max: LIMITS.questionLength }, 'q');

  const priority = req.priority ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 10)
    throw new UserError('bad_args', 'diagnose.badPriority', { value: String(req.priority) }, 'priority');
  return { brands: parsed, models: chosen, questions, priority };
}

/**
 * Seconds a run should take: per model, rounds of its concurrency × its recent mean latency (or
 * its timeout's tenth when it has none), no faster than its rate limit allows; models run side by
 * side, all under the global concurrency. Pure.
 */
export function estimateSeconds(
  spec: Pick<DiagnosisSpec, 'models' | 'questions'>,
  latencies: ReadonlyMap<string, number>,
  globalConcurrency: number,
): number {
  const n = spec.questions.length;
  let slowest = 0;
  let work = 0;
  for (const m of spec.models) {
    const lat = latencies.get(m.name) ?? Math.min(m.timeoutMs / 10, 20_000);
    const byConcurrency = Math.ceil(n / m.concurrency) * lat;
    const byRate = n > m.rpm ? Math.floor((n - 1) / m.rpm) * m.rateWindowMs + lat : 0;
    slowest = Math.max(slowest, byConcurrency, byRate);
    work += n * lat;
  }
  const byGlobal = work / Math.max(1, globalConcurrency);
  return Math.max(1, Math.ceil(Math.max(slowest, byGlobal) / 1000));
}

/** Enqueue a validated diagnosis; returns the job, its number of calls and the estimate. */
export async function submitDiagnosis(
  deps: { db: Database; jobDefinitions: readonly AnyJobDefinition[]; config: { DIAGNOSIS_CONCURRENCY: number } },
  spec: DiagnosisSpec,
  caller: Caller,
  replyTo?: ReplyTarget,
): Promise<{ job: Job; calls: number; estimatedSeconds: number }> {
  const payload: DiagnosisPayload = {
    brands: spec.brands,
    models: spec.models.map((m) => m.name),
    questions: spec.questions,
    brandKey: brandKeyOf(spec.brands),
    requestedBy: caller.key,
  };
  const latencies = await recentLatencies(
    deps.db,
    spec.models.map((m) => m.name),
  );
  const { job } = await submitJob(deps.db, deps.jobDefinitions, {
    kind: DIAGNOSIS_KIND,
    payload,
    priority: spec.priority,
    requestedBy: caller.key,
    replyTo,
  });
  return {
    job,
    calls: spec.questions.length * spec.models.length,
    estimatedSeconds: estimateSeconds(spec, latencies, deps.config.DIAGNOSIS_CONCURRENCY),
  };
}
