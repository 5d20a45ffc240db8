import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { dispatch, type Outcome } from '../chat/dispatch';
import type { Deps } from '../deps';
import { type AuthVars, callerOf } from './auth';
import { readJsonObject } from './body';
import { errorBody } from './errors';
import { runIdempotent } from './idempotency';

const STATUS: Record<Outcome, ContentfulStatusCode> = {
  ok: 200,
  empty: 400,
  bad_args: 400,
  unknown_command: 404,
  not_found: 404,
  forbidden: 403,
  rate_limited: 429,
  conflict: 409,
  error: 500,
};

/**
 * POST /hooks/commands/:name[/:sub] — run a chat command from another system. The JSON body holds
 * the arguments by name (`body` = lines after the command). An `Idempotency-Key` header makes a
 * retried call run once and get the first answer again. The token check and the rate limit are
 * mounted once for /hooks/* (app.ts).
 */
export function hookRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  const run = async (c: Context<AuthVars>, name: string, sub?: string) => {
    const { raw, json } = await readJsonObject(c, deps, '{"type":"refund","store":"12"}');
    const { body, ...args } = json;
    const lines = Array.isArray(body) ? body.map(String) : typeof body === 'string' ? body.split('\n') : [];
    const caller = callerOf(c);
    return runIdempotent(c, deps, caller, raw, async () => {
      const result = await dispatch(deps, {
        source: 'webhook',
        caller,
        command: name,
        subcommand: sub,
        args,
        body: lines.map((l) => l.trim()).filter(Boolean),
        rateLimit: false, // counted once by the /hooks/* middleware
      });
      const record = { outcome: result.outcome, command: result.command, args: result.args, error: result.error, jobId: result.jobId };
      const statusUrl = result.jobId ? `${deps.config.PUBLIC_URL}/api/jobs/${result.jobId}` : undefined;
      if (result.outcome === 'ok') {
        const out = { ok: true, command: result.command, jobId: result.jobId, statusUrl, data: result.data, messages: result.messages };
        return { status: 200, body: out, record };
      }
      const message = result.messages.map((m) => ('text' in m ? m.text : '')).join('\n');
      return {
        status: STATUS[result.outcome],
        body: { ...errorBody(result.outcome, message, result.field), command: result.command, messages: result.messages },
        record,
      };
    });
  };
  app.post('/hooks/commands/:name', (c) => run(c, c.req.param('name')));
  app.post('/hooks/commands/:name/:sub', (c) => run(c, c.req.param('name'), c.req.param('sub')));
  return app;
}
