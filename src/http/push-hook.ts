import { Hono } from 'hono';
import { z } from 'zod';
import { finishInbound, recordWebhookCall } from '../chat/inbound';
import type { Deps } from '../deps';
import { UserError } from '../errors';
import { dryRunPush, submitPush, validatePush } from '../push/submit-push';
import { type AuthVars, callerOf, ensureRole, requireToken } from './auth';

const body = z.object({
  overrides: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  items: z.union([z.string(), z.array(z.object({ sku: z.string(), quantity: z.number().int().positive().default(1) }))]).optional(),
  count: z.number().int().optional(),
  queue: z.string().min(1).optional(),
  dryRun: z.boolean().default(false),
});

/**
 * POST /hooks/push/:type with `{ overrides, items, count, dryRun }`: the same validation as /push;
 * answers 202 with the job id and its status URL (or 200 with the first message for a dry run).
 */
export function pushHookRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  app.use('/hooks/push/*', requireToken(deps, 'viewer'));
  app.post('/hooks/push/:type', async (c) => {
    ensureRole(c, 'operator');
    const caller = callerOf(c);
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      return c.json({ ok: false, error: { code: 'bad_args', message: 'body is not JSON' } }, 400);
    }
    const parsed = body.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return c.json(
        { ok: false, error: { code: 'bad_args', field: i?.path.join('.'), message: `${i?.path.join('.')}: ${i?.message}` } },
        400,
      );
    }
    const req = parsed.data;
    const type = c.req.param('type');
    const inboundId = await recordWebhookCall(
      deps,
      caller,
      c.req.header('idempotency-key'),
      `POST /hooks/push/${type} ${JSON.stringify(req)}`,
    );
    if (inboundId === null)
      return c.json({ ok: false, error: { code: 'conflict', message: 'this Idempotency-Key was already used' } }, 409);
    try {
      const { preset, spec } = validatePush(deps, { type, overrides: req.overrides, items: req.items, count: req.count, queue: req.queue });
      if (req.dryRun) {
        const d = await dryRunPush(deps, preset, spec);
        await finishInbound(deps, inboundId, { outcome: 'ok', command: 'push', args: req, messages: [] });
        return c.json({ ok: true, dryRun: true, ...d });
      }
      const job = await submitPush(deps, spec, caller);
      await finishInbound(deps, inboundId, { outcome: 'ok', command: 'push', args: req, jobId: job.id, messages: [] });
      return c.json({ ok: true, jobId: job.id, status: job.status, statusUrl: `${deps.config.PUBLIC_URL}/api/jobs/${job.id}` }, 202);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const message = deps.t(err.key, err.vars);
      await finishInbound(deps, inboundId, { outcome: err.code, command: 'push', args: req, error: message, messages: [] });
      return c.json({ ok: false, error: { code: err.code, field: err.field, message } }, err.code === 'forbidden' ? 403 : 400);
    }
  });
  return app;
}
