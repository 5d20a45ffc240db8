import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { resolveCommand } from '../chat/dispatch';
import { parseRobotPayload } from '../chat/message';
import { createReplySink } from '../chat/reply-sink';
import type { Deps } from '../deps';
import { type AuthVars, requireToken } from '../http/auth';
import { BODY_LIMITS } from '../http/body';
import { ApiError, apiError, errorBody } from '../http/errors';
import { hookAnswer, readHookCommand } from '../http/hooks';
import { runIdempotent } from '../http/idempotency';
import { jobsApiRoutes } from '../http/jobs-api';
import { pushHookRoutes } from '../http/push-hook';
import { jobStatusUrl } from '../jobs/reads';
import { submitJob } from '../jobs/submit';
import { QUEUED_COMMAND_KIND } from './kinds';
import { queueChatMessage } from './queue-chat-message';
import { verifySignatureWeb } from './verify-signature';

const CODES: Record<number, string> = { 400: 'bad_args', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'too_large' };

/**
 * The Worker's Hono app: the ingress half of the Node app (src/app.ts) built from the same modules —
 * token check and rate limit, push validation, idempotency, job status, the one error shape — while
 * everything that needs a Node instance (dispatching chat commands, replies, the job loop) is queued.
 */
export function createEdgeApp(deps: Deps): Hono {
  const app = new Hono();
  // The same error answers as src/app.ts.
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(errorBody(err.code, err.message, err.field), err.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return c.json(errorBody(CODES[status] ?? 'error', err.message), status);
    }
    const ref = crypto.randomUUID().slice(0, 8);
    deps.log.error({ err, ref, path: c.req.path }, 'edge request failed');
    return c.json(errorBody('internal', deps.t('http.internal', { ref })), 500);
  });
  app.notFound((c) =>
    c.json(errorBody('not_found', deps.t('http.noRoute', { method: c.req.method, path: c.req.path.slice(0, 200) })), 404),
  );
  const limit = (maxSize: number) =>
    bodyLimit({ maxSize, onError: (c) => c.json(errorBody('too_large', deps.t('http.bodyTooLarge', { limit: maxSize })), 413) });
  app.use('/dingtalk/*', limit(BODY_LIMITS.callback));
  app.use('/hooks/*', limit(BODY_LIMITS.api));
  app.use('/api/*', limit(BODY_LIMITS.api));
  app.use('/hooks/*', requireToken(deps));
  app.use('/api/*', requireToken(deps));

  app.get('/health', async (c) => {
    try {
      await deps.db.query('select 1');
      return c.json({ status: 'ok', role: 'edge', database: 'ok' });
    } catch (err) {
      deps.log.error({ err }, 'edge health: database unreachable');
      return c.json({ status: 'down', role: 'edge', database: 'down', reasons: [deps.t('edge.dbDown')] }, 503);
    }
  });

  // Checked like the Node callback (same sign rule, same 401/400 bodies), then recorded and queued:
  // DingTalk's 200 does not wait for a command to run.
  app.post('/dingtalk/callback', async (c) => {
    const headers = { timestamp: c.req.header('timestamp'), sign: c.req.header('sign') };
    if (!(await verifySignatureWeb(deps.callbackSecret, headers, deps.now()))) {
      return apiError(c, deps, 401, 'unauthorized', deps.t('http.badSign'));
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return apiError(c, deps, 400, 'bad_args', deps.t('http.notJson', { example: '{"msgtype":"text",…}' }));
    }
    const parsed = parseRobotPayload(body, 'http', { robotCode: deps.config.robotCode, nowMs: deps.now() });
    if (!parsed.ok) return apiError(c, deps, 400, 'bad_args', deps.t('http.badCallback', { problem: parsed.error }), parsed.field);
    const queued = await queueChatMessage(deps, parsed.message);
    return c.json(queued.duplicate ? { duplicate: true } : { queued: true });
  });

  // A command is checked here like dispatch checks it and run by a Node instance (its ports): the
  // same token, rate limit, idempotency and 4xx answers; 202 with the job whose result is the Node answer.
  const commands = new Hono<AuthVars>();
  const command = async (c: Context<AuthVars>, name: string, sub?: string) => {
    const { raw, call } = await readHookCommand(c, deps, name, sub);
    return runIdempotent(c, deps, call.caller, raw, async () => {
      // The checks dispatch makes before running (command, role, arguments): refused here with the
      // Node route's answer; the rate limit was counted once by requireToken, as on Node.
      const request = {
        source: 'webhook' as const,
        caller: call.caller,
        command: name,
        subcommand: sub,
        args: call.args,
        body: call.body,
        rateLimit: false,
      };
      const checked = await resolveCommand(deps, request, createReplySink());
      if (!checked.ok) return hookAnswer(deps, checked.result);
      const { job } = await submitJob(deps.db, deps.jobDefinitions, {
        kind: QUEUED_COMMAND_KIND,
        payload: call,
        requestedBy: call.caller.key,
      });
      const statusUrl = jobStatusUrl(deps.config, job.id);
      return {
        status: 202,
        body: { ok: true, command: checked.command.label, jobId: job.id, status: job.status, statusUrl },
        record: { outcome: 'ok', command: checked.command.label, args: checked.command.args, jobId: job.id },
      };
    });
  };
  commands.post('/hooks/commands/:name', (c) => command(c, c.req.param('name')));
  commands.post('/hooks/commands/:name/:sub', (c) => command(c, c.req.param('name'), c.req.param('sub')));
  app.route('/', commands);
  app.route('/', pushHookRoutes(deps));
  app.route('/', jobsApiRoutes(deps));
  return app;
}
