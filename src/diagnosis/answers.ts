import type { Database } from '../db/client';
import type { CallOutcome, CallTask } from './call-scheduler';

/** One stored call of a diagnosis. */
export interface StoredAnswer {
  model: string;
  questionIndex: number;
  ok: boolean;
  text: string | null;
  error: string | null;
  latencyMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  modelVersion: string | null;
  tries: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Every call stored for a job so far, in question then model order. */
export async function loadAnswers(db: Database, jobId: number): Promise<StoredAnswer[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select model, question_index, ok, text, error, latency_ms, prompt_tokens, completion_tokens, model_version, tries
       from diagnosis_answers where job_id = $1 order by question_index, model`,
    [jobId],
  );
  return rows.map((r) => ({
    model: String(r.model),
    questionIndex: Number(r.question_index),
    ok: Boolean(r.ok),
    text: (r.text as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    latencyMs: num(r.latency_ms),
    promptTokens: num(r.prompt_tokens),
    completionTokens: num(r.completion_tokens),
    modelVersion: (r.model_version as string | null) ?? null,
    tries: Number(r.tries),
  }));
}

/** Store how a call ended, replacing an earlier failure of the same call (never an answer). */
export async function saveOutcome(db: Database, jobId: number, task: CallTask, o: CallOutcome): Promise<void> {
  const a = o.ok ? o.answer : null;
  await db.query(
    `insert into diagnosis_answers (job_id, model, question_index, ok, text, error, latency_ms, prompt_tokens, completion_tokens, model_version, tries)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     on conflict (job_id, model, question_index) do update set
       ok = excluded.ok, text = excluded.text, error = excluded.error, latency_ms = excluded.latency_ms,
       prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
       model_version = excluded.model_version, tries = diagnosis_answers.tries + excluded.tries, created_at = now()
     where not diagnosis_answers.ok`,
    [
      jobId,
      task.model,
      task.questionIndex,
      o.ok,
      a?.text ?? null,
      o.ok ? null : o.error.slice(0, 2000),
      o.ok ? o.latencyMs : null,
      a?.promptTokens ?? null,
      a?.completionTokens ?? null,
      a?.modelVersion ?? null,
      o.tries,
    ],
  );
}

/** Mean latency of each model's recent answers (the last 50 each), for time estimates. */
export async function recentLatencies(db: Database, models: string[]): Promise<Map<string, number>> {
  if (models.length === 0) return new Map();
  const rows = await db.query<{ model: string; ms: number }>(
    `select m.model, (select avg(latency_ms) from (
        select latency_ms from diagnosis_answers a where a.model = m.model and a.ok order by created_at desc limit 50) x)::float8 as ms
       from unnest($1::text[]) as m(model)`,
    [`{${models.map((m) => `"${m.replace(/["\\]/g, '')}"`).join(',')}}`],
  );
  return new Map(rows.filter((r) => r.ms !== null).map((r) => [r.model, Number(r.ms)]));
}

/** Per model, over the last `days`: calls, failures, mean and p95 latency of answers. */
export async function modelCallStats(db: Database, days = 30) {
  const rows = await db.query<{ model: string; calls: number; failed: number; avg_ms: number | null; p95_ms: number | null }>(
    `select model, count(*)::int as calls, count(*) filter (where not ok)::int as failed,
            avg(latency_ms) filter (where ok)::float8 as avg_ms,
            percentile_cont(0.95) within group (order by latency_ms) filter (where ok)::float8 as p95_ms
       from diagnosis_answers where created_at > now() - make_interval(days => $1)
      group by model order by model`,
    [days],
  );
  return rows.map((r) => ({
    model: r.model,
    calls: Number(r.calls),
    failed: Number(r.failed),
    errorRate: Number(r.calls) === 0 ? 0 : Number(r.failed) / Number(r.calls),
    averageLatencyMs: r.avg_ms === null ? null : Math.round(Number(r.avg_ms)),
    p95LatencyMs: r.p95_ms === null ? null : Math.round(Number(r.p95_ms)),
  }));
}

/** How many calls of a job have an answer. */
export async function countAnswered(db: Database, jobId: number): Promise<number> {
  const rows = await db.query<{ n: number }>(`select count(*)::int as n from diagnosis_answers where job_id = $1 and ok`, [jobId]);
  return Number(rows[0]?.n ?? 0);
}
