import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type DispatchResult, dispatch, type Outcome } from '../chat/dispatch';
import type { Deps } from '../deps';
import { jobStatusUrl } from '../jobs/reads';
import type { Caller } from '../lib/roles';
import { type AuthVars, callerOf } from './auth';
import { readJsonObject } from './body';
import { errorBody } from './errors';
import { type CallOutcome, runIdempotent } from './idempotency';

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
    const { raw, call } = await readHookCommand(c, deps, name, sub);
    return runIdempotent(c, deps, call.caller, raw, () => runHookCommand(deps, call));
  };
  app.post('/hooks/commands/:name', (c) => run(c, c.req.param('name')));
  app.post('/hooks/commands/:name/:sub', (c) => run(c, c.req.param('name'), c.req.param('sub')));
  return app;
}

/** A webhook command call: who, which command, its named arguments and body lines. */
export interface HookCommand {
  caller: Caller;
  name: string;
  sub?: string;
  args: Record<string, unknown>;
  body: string[];
}

/** Read a webhook command call from the request (the Node route and the Worker's share it). */
export async function readHookCommand(
  c: Context<AuthVars>,
  deps: Pick<Deps, 't'>,
  name: string,
  sub?: string,
): Promise<{ raw: string; call: HookCommand }> {
  const { raw, json } = await readJsonObject(c, deps, '{"type":"refund","store":"12"}');
  const { body, ...args } = json;
  const lines = Array.isArray(body) ? body.map(String) : typeof body === 'string' ? body.split('\n') : [];
  return { raw, call: { caller: callerOf(c), name, sub, args, body: lines } };
}

/**
 * Run a webhook command and shape its answer (status, body, what the inbound log records). Shared
 * by the route above and the job that runs a command queued at the edge (src/edge/queued-jobs.ts).
 */
export async function runHookCommand(deps: Deps, call: HookCommand): Promise<CallOutcome> {
  const result = await dispatch(deps, {
    source: 'webhook',
    caller: call.caller,
    command: call.name,
    subcommand: call.sub,
    args: call.args,
    body: call.body.map((l) => l.trim()).filter(Boolean),
    rateLimit: false, // counted once by the /hooks/* middleware
  });
  return hookAnswer(deps, result);
}

/** The HTTP answer to a dispatched (or refused) webhook command, and what the inbound log records. */
export function hookAnswer(deps: Pick<Deps, 'config'>, result: DispatchResult): CallOutcome {
  const record = { outcome: result.outcome, command: result.command, args: result.args, error: result.error, jobId: result.jobId };
  const statusUrl = result.jobId ? jobStatusUrl(deps.config, result.jobId) : undefined;
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
}
