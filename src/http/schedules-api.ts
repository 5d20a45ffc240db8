import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { dispatch, type Outcome } from '../chat/dispatch';
import type { Deps } from '../deps';
import { scheduleHistory, scheduleStats } from '../schedules/history';
import { getScheduleByName, listSchedules } from '../schedules/store';
import { type AuthVars, callerOf } from './auth';
import { readJsonObject } from './body';
import { ApiError, errorBody } from './errors';
import { runIdempotent } from './idempotency';

const ACTIONS = ['pause', 'resume', 'stop', 'start', 'run', 'edit', 'rm', 'reload'] as const;

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
 * Schedules over HTTP with the API tokens (checked once for /api/* in app.ts):
 * GET /api/schedules, GET /api/schedules/:name (with stats and recent runs),
 * POST /api/schedules (create; the JSON body holds /schedule add's arguments by name),
 * POST /api/schedules/:name/:action (pause, resume, stop, start, run, edit, rm, reload).
 * Changes run the /schedule command itself, so roles, checks, replies and the audit log are the chat's.
 */
export function schedulesApiRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();

  app.get('/api/schedules', async (c) => c.json({ schedules: await listSchedules(deps.db) }));
  app.get('/api/schedules/:name', async (c) => {
    const s = await getScheduleByName(deps.db, c.req.param('name'));
    if (!s) throw new ApiError(404, 'not_found', deps.t('schedule.notFound', { name: c.req.param('name').slice(0, 60) }), 'name');
    const [stats, runs] = await Promise.all([scheduleStats(deps.db, s.id), scheduleHistory(deps.db, s.id, 20)]);
    return c.json({ schedule: s, stats, runs });
  });

  const change = async (c: Context<AuthVars>, sub: string, name?: string) => {
    const { raw, json } = await readJsonObject(c, deps, '{"name":"daily-orders","type":"cron","when":"0 9 * * 1-5","kind":"export"}');
    const args = sub === 'reload' ? {} : name === undefined ? json : { ...json, name };
    const caller = callerOf(c);
    return runIdempotent(c, deps, caller, raw, async () => {
      const result = await dispatch(deps, { source: 'webhook', caller, command: 'schedule', subcommand: sub, args, rateLimit: false });
      const record = { outcome: result.outcome, command: result.command, args: result.args, error: result.error, jobId: result.jobId };
      const message = result.messages.map((m) => ('text' in m ? m.text : '')).join('\n');
      if (result.outcome === 'ok') {
        return { status: sub === 'add' ? 201 : 200, body: { ok: true, jobId: result.jobId, data: result.data, message }, record };
      }
      return { status: STATUS[result.outcome], body: errorBody(result.outcome, message, result.field), record };
    });
  };
  app.post('/api/schedules', (c) => change(c, 'add'));
  app.post('/api/schedules/:name/:action', (c) => {
    const action = c.req.param('action');
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new ApiError(400, 'bad_args', `action must be one of ${ACTIONS.join(', ')}`, 'action');
    }
    return change(c, action, c.req.param('name'));
  });
  return app;
}
