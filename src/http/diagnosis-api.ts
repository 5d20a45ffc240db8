import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { takeRateLimit } from '../chat/rate-limit';
import type { Deps } from '../deps';
import { countAnswered, modelCallStats } from '../diagnosis/answers';
import { submitDiagnosis, validateDiagnosis } from '../diagnosis/submit-diagnosis';
import { DIAGNOSIS_KIND } from '../diagnosis/types';
import { UserError } from '../errors';
import { canAct, canView } from '../jobs/access';
import { cancelJob } from '../jobs/admin';
import { getJob } from '../jobs/reads';
import type { Job } from '../jobs/types';
import { type AuthVars, callerOf, ensureRole } from './auth';
import { readJsonObject } from './body';
import { ApiError, invalidFieldError } from './errors';

/** The old API's status words (its submit answer says "queued"; a finished run is "completed"). */
const STATUS: Record<string, string> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

const submitBody = z.object({
  brand_list: z.array(z.string().min(1)),
  selectedModels: z.array(z.union([z.object({ name: z.string().min(1) }).loose(), z.string().min(1)])),
  customQuestions: z.union([z.array(z.string()), z.string()]),
  priority: z.coerce.number().int().optional(),
});

const SUBMIT_EXAMPLE =
  '{"brand_list": ["趣车良品", "竞品A"], "selectedModels": [{"name": "doubao"}], "customQuestions": ["深圳新能源汽车改装门店哪家好？"], "priority": 5}';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A diagnosis job in the old status shape; progress = calls answered / calls, in percent. */
export function statusJson(job: Job, answered: number) {
  const p = job.payload as { questions?: unknown[]; models?: unknown[] };
  const total = (p.questions?.length ?? 0) * (p.models?.length ?? 0);
  return {
    execution_id: String(job.id),
    status: STATUS[job.status] ?? job.status,
    progress: job.status === 'succeeded' ? 100 : total ? Math.floor((answered / total) * 100) : 0,
    task_type: job.kind,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    completed_at: iso(job.finishedAt),
    result: job.status === 'succeeded' ? job.result : null,
    error_message: job.status === 'succeeded' ? null : job.error,
  };
}

/**
 * The brand-diagnosis HTTP API of the system this bot replaces, same paths and shapes, so its
 * callers switch by changing the host and adding `Authorization: Bearer <token>`:
 * POST /api/perform-brand-test-async, GET /api/diagnosis/status/:id, POST /api/diagnosis/cancel/:id,
 * GET /api/diagnosis/statistics. Per-token limits per minute (DIAGNOSIS_API_RATE_LIMITS, kept in
 * Postgres so every instance shares them); over the limit → 429 with Retry-After.
 */
export function diagnosisApiRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  const limits = deps.config.DIAGNOSIS_API_RATE_LIMITS;
  // The bearer token (and the general per-caller limit) is checked for all of /api/* in app.ts.
  const limited = (what: keyof typeof limits) => async (c: Context<AuthVars>, next: () => Promise<void>) => {
    const rl = await takeRateLimit(deps.db, `diagnosis-api:${what}:${callerOf(c).key}`, limits[what]);
    if (!rl.allowed) {
      throw new ApiError(
        429,
        'rate_limited',
        deps.t('diagnose.api.rateLimited', { limit: limits[what], seconds: rl.retryAfterSec }),
        undefined,
        {
          'Retry-After': String(rl.retryAfterSec),
        },
      );
    }
    await next();
  };
  const load = async (c: Context<AuthVars>) => {
    const id = Number(c.req.param('id'));
    const job = Number.isSafeInteger(id) && id > 0 ? await getJob(deps.db, id) : null;
    if (!job || job.kind !== DIAGNOSIS_KIND || !canView({ caller: callerOf(c) }, job)) {
      throw new ApiError(404, 'not_found', deps.t('diagnose.api.notFound', { id: (c.req.param('id') ?? '').slice(0, 40) }), 'execution_id');
    }
    return job;
  };
  // The old API's field names, for errors found by the shared validation.
  const FIELDS: Record<string, string> = { brands: 'brand_list', models: 'selectedModels', q: 'customQuestions', priority: 'priority' };

  app.post('/api/perform-brand-test-async', limited('submit'), async (c) => {
    ensureRole(c, deps, 'operator');
    const { json } = await readJsonObject(c, deps, SUBMIT_EXAMPLE, Object.keys(submitBody.shape));
    const parsed = submitBody.safeParse(json);
    if (!parsed.success) {
      throw invalidFieldError(deps, parsed.error.issues, { example: SUBMIT_EXAMPLE, known: Object.keys(submitBody.shape) });
    }
    const b = parsed.data;
    try {
      const spec = validateDiagnosis(
        {
          brands: b.brand_list,
          models: b.selectedModels.map((m) => (typeof m === 'string' ? m : m.name)),
          questions: typeof b.customQuestions === 'string' ? b.customQuestions.split('\n') : b.customQuestions,
          priority: b.priority,
        },
        deps.models,
      );
      const { job, estimatedSeconds } = await submitDiagnosis(deps, spec, callerOf(c));
      return c.json({
        status: 'queued',
        execution_id: String(job.id),
        message: deps.t('diagnose.apiQueued'),
        estimated_time: estimatedSeconds,
      });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new ApiError(400, 'bad_args', deps.t(e.key, e.vars), e.field ? (FIELDS[e.field] ?? e.field) : undefined);
    }
  });

  app.get('/api/diagnosis/status/:id', limited('status'), async (c) => {
    const job = await load(c);
    return c.json(statusJson(job, await countAnswered(deps.db, job.id)));
  });

  app.post('/api/diagnosis/cancel/:id', limited('cancel'), async (c) => {
    ensureRole(c, deps, 'operator');
    const job = await load(c);
    if (!canAct(callerOf(c), job)) throw new ApiError(404, 'not_found', deps.t('diagnose.api.notFound', { id: job.id }), 'execution_id');
    const r = await cancelJob(deps.db, job.id, callerOf(c).key);
    if (!r || (r.before !== 'queued' && r.before !== 'running')) {
      throw new ApiError(
        409,
        'conflict',
        deps.t('diagnose.api.ended', { id: job.id, status: STATUS[r?.before ?? ''] ?? String(r?.before) }),
      );
    }
    return c.json({
      execution_id: String(job.id),
      status: r.after === 'cancelled' ? 'cancelled' : 'cancelling',
      message: r.after === 'cancelled' ? deps.t('cancel.done', { id: job.id }) : deps.t('cancel.requested', { id: job.id }),
    });
  });

  app.get('/api/diagnosis/statistics', limited('statistics'), async (c) => {
    const [byStatus, duration, models] = await Promise.all([
      deps.db.query<{ status: string; n: number }>(`select status, count(*)::int as n from jobs where kind = $1 group by status`, [
        DIAGNOSIS_KIND,
      ]),
      deps.db.query<{ avg_s: number | null }>(
        `select avg(extract(epoch from finished_at - started_at))::float8 as avg_s
           from jobs where kind = $1 and status = 'succeeded' and started_at is not null`,
        [DIAGNOSIS_KIND],
      ),
      modelCallStats(deps.db),
    ]);
    const counts: Record<string, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of byStatus) counts[STATUS[r.status] ?? r.status] = Number(r.n);
    const avg = duration[0]?.avg_s;
    return c.json({
      total: Object.values(counts).reduce((a, b) => a + b, 0),
      by_status: counts,
      average_duration_seconds: avg === null || avg === undefined ? null : Math.round(Number(avg) * 1000) / 1000,
      models: models.map((m) => ({
        name: m.model,
        calls: m.calls,
        failed: m.failed,
        error_rate: Math.round(m.errorRate * 1000) / 1000,
        average_latency_ms: m.averageLatencyMs,
        p95_latency_ms: m.p95LatencyMs,
      })),
    });
  });
  return app;
}
