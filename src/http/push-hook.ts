import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../deps';
import { UserError } from '../errors';
import { jobStatusUrl } from '../jobs/reads';
import type { Preset } from '../push/preset-schema';
import { dryRunPush, submitPush, validatePush } from '../push/submit-push';
import { type AuthVars, callerOf, ensureRole } from './auth';
import { readJsonObject } from './body';
import { errorBody, invalidFieldError } from './errors';
import { runIdempotent } from './idempotency';

const KEYS = ['overrides', 'items', 'count', 'queue', 'dryRun'] as const;

const body = z.object({
  overrides: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  items: z.union([z.string(), z.array(z.strictObject({ sku: z.string(), quantity: z.number().int().positive().default(1) }))]).optional(),
  count: z.number().int().optional(),
  queue: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
});
type PushBody = z.output<typeof body>;

const ITEM_KEYS = ['sku', 'quantity'];
const EXAMPLE = '{"overrides":{"store":"12"},"items":[{"sku":"A001","quantity":2}],"count":5}';

/**
 * The JSON key the caller sent for a field a push error names: the chat name `sku` is `items`
 * here, and a preset path (`storeId`) is the override key that set it (`store`).
 */
export function callerField(field: string | undefined, req: PushBody, preset?: Preset): string | undefined {
  if (field === undefined) return undefined;
  if (field === 'sku' || field === 'items') return 'items';
  if (field === 'count' || field === 'queue') return field;
  for (const key of Object.keys(req.overrides)) {
    if (key === field || key.toLowerCase() === field.toLowerCase() || preset?.fields[key] === field) return key;
  }
  return field;
}

/**
 * POST /hooks/push/:type with `{ overrides, items, count, queue, dryRun }`: the same validation as
 * /push; answers 202 with the job id and its status URL (or 200 with the first message for a dry
 * run). Unknown keys are refused by name; an `Idempotency-Key` replays the first answer.
 */
export function pushHookRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  app.post('/hooks/push/:type', async (c) => {
    ensureRole(c, deps, 'operator');
    const caller = callerOf(c);
    const { raw, json } = await readJsonObject(c, deps, EXAMPLE, KEYS);
    const parsed = body.safeParse(json);
    if (!parsed.success) {
      // Top-level keys were checked by readJsonObject: an unknown key here is an item's.
      throw invalidFieldError(deps, parsed.error.issues, { example: EXAMPLE, known: ITEM_KEYS });
    }
    const req = parsed.data;
    const type = c.req.param('type');
    return runIdempotent(c, deps, caller, raw, async () => {
      const record = { command: 'push', args: req };
      let preset: Preset | undefined;
      try {
        const v = validatePush(deps, { type, overrides: req.overrides, items: req.items, count: req.count, queue: req.queue });
        preset = v.preset;
        if (req.dryRun) {
          const d = await dryRunPush(deps, v.preset, v.spec);
          return { status: 200, body: { ok: true, dryRun: true, ...d }, record: { ...record, outcome: 'ok' } };
        }
        const job = await submitPush(deps, v.spec, caller);
        return {
          status: 202,
          body: { ok: true, jobId: job.id, status: job.status, statusUrl: jobStatusUrl(deps.config, job.id) },
          record: { ...record, outcome: 'ok', jobId: job.id },
        };
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        // The chat wording names chat syntax (sku=…): a webhook caller sent JSON.
        const message = err.key === 'push.missingSku' ? deps.t('http.push.missingItems') : deps.t(err.key, err.vars);
        return {
          status: err.code === 'forbidden' ? 403 : err.code === 'not_found' ? 404 : 400,
          body: errorBody(err.code, message, callerField(err.field, req, preset)),
          record: { ...record, outcome: err.code, error: message },
        };
      }
    });
  });
  return app;
}
