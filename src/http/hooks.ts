import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { dispatch, type Outcome } from '../chat/dispatch';
import { finishInbound, recordWebhookCall } from '../chat/inbound';
import type { Deps } from '../deps';
import { type AuthVars, callerOf, requireToken } from './auth';

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
 * retried call run once.
 */
export function hookRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  app.use('/hooks/*', requireToken(deps, 'viewer'));
  const run = async (c: import('hono').Context<AuthVars>, name: string, sub?: string) => {
    let json: unknown = {};
    const raw = await c.req.text();
    if (raw.trim() !== '') {
      try {
        json = JSON.parse(raw);
      } catch {
        return c.json({ ok: false, error: { code: 'bad_args', message: 'body is not JSON' } }, 400);
      }
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return c.json({ ok: false, error: { code: 'bad_args', message: 'body must be a JSON object of arguments' } }, 400);
    }
    const { body, ...args } = json as Record<string, unknown>;
    const lines = Array.isArray(body) ? body.map(String) : typeof body === 'string' ? body.split('\n') : [];
    const caller = callerOf(c);
    const inboundId = await recordWebhookCall(deps, caller, c.req.header('idempotency-key'), `/${name}${sub ? ` ${sub}` : ''} ${raw}`);
    if (inboundId === null)
      return c.json({ ok: false, duplicate: true, error: { code: 'conflict', message: 'this Idempotency-Key was already used' } }, 409);
    const result = await dispatch(deps, {
      source: 'webhook',
      caller,
      command: name,
      subcommand: sub,
      args,
      body: lines.map((l) => l.trim()).filter(Boolean),
    });
    await finishInbound(deps, inboundId, result);
    const statusUrl = result.jobId ? `${deps.config.PUBLIC_URL}/api/jobs/${result.jobId}` : undefined;
    if (result.outcome === 'ok') {
      return c.json({ ok: true, command: result.command, jobId: result.jobId, statusUrl, data: result.data, messages: result.messages });
    }
    return c.json(
      {
        ok: false,
        command: result.command,
        error: { code: result.outcome, field: result.field, message: result.messages.map((m) => ('text' in m ? m.text : '')).join('\n') },
        messages: result.messages,
      },
      STATUS[result.outcome],
    );
  };
  app.post('/hooks/commands/:name', (c) => run(c, c.req.param('name')));
  app.post('/hooks/commands/:name/:sub', (c) => run(c, c.req.param('name'), c.req.param('sub')));
  return app;
}
