import { Hono } from 'hono';
import { dispatch } from '../chat/dispatch';
import { finishInbound, recordWebhookCall } from '../chat/inbound';
import type { Deps } from '../deps';
import { scheduleHistory, scheduleStats } from '../schedules/history';
import { getScheduleByName, listSchedules } from '../schedules/store';
import { type AuthVars, callerOf, requireToken } from './auth';

const ACTIONS = ['pause', 'resume', 'stop', 'start', 'run', 'edit', 'rm', 'reload'] as const;

/**
 * Schedules over HTTP with a bearer token:
 * GET /api/schedules, GET /api/schedules/:name (with stats and recent runs),
 * POST /api/schedules (create; the JSON body holds /schedule add's arguments by name),
 * POST /api/schedules/:name/:action (pause, resume, stop, start, run, edit, rm, reload).
 * Changes run the /schedule command itself, so roles, checks, replies and the audit log are the chat's.
 */
export function schedulesApiRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  app.use('/api/schedules', requireToken(deps, 'viewer'));
  app.use('/api/schedules/*', requireToken(deps, 'viewer'));

  app.get('/api/schedules', async (c) => c.json({ schedules: await listSchedules(deps.db) }));
  app.get('/api/schedules/:name', async (c) => {
    const s = await getScheduleByName(deps.db, c.req.param('name'));
    if (!s) return c.json({ error: `no schedule named ${c.req.param('name')}` }, 404);
    const [stats, runs] = await Promise.all([scheduleStats(deps.db, s.id), scheduleHistory(deps.db, s.id, 20)]);
    return c.json({ schedule: s, stats, runs });
  });

  const change = async (c: import('hono').Context<AuthVars>, sub: string, args: Record<string, unknown>) => {
    const caller = callerOf(c);
    const inboundId = await recordWebhookCall(deps, caller, c.req.header('idempotency-key'), `/schedule ${sub} ${JSON.stringify(args)}`);
    if (inboundId === null)
      return c.json({ ok: false, error: { code: 'conflict', message: 'this Idempotency-Key was already used' } }, 409);
    const result = await dispatch(deps, { source: 'webhook', caller, command: 'schedule', subcommand: sub, args });
    await finishInbound(deps, inboundId, result);
    const message = result.messages.map((m) => ('text' in m ? m.text : '')).join('\n');
    if (result.outcome === 'ok') return c.json({ ok: true, jobId: result.jobId, data: result.data, message }, sub === 'add' ? 201 : 200);
    const status = result.outcome === 'not_found' ? 404 : result.outcome === 'forbidden' ? 403 : result.outcome === 'conflict' ? 409 : 400;
    return c.json({ ok: false, error: { code: result.outcome, field: result.field, message } }, status);
  };
  const body = async (c: import('hono').Context<AuthVars>): Promise<Record<string, unknown> | null> => {
    const raw = await c.req.text();
    if (raw.trim() === '') return {};
    try {
      const v = JSON.parse(raw);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null;
    } catch {
      return null;
    }
  };
  app.post('/api/schedules', async (c) => {
    const args = await body(c);
    if (!args)
      return c.json({ ok: false, error: { code: 'bad_args', message: 'body must be a JSON object of /schedule add arguments' } }, 400);
    return change(c, 'add', args);
  });
  app.post('/api/schedules/:name/:action', async (c) => {
    const action = c.req.param('action');
    if (!(ACTIONS as readonly string[]).includes(action)) {
      return c.json(
        { ok: false, error: { code: 'bad_args', field: 'action', message: `action must be one of ${ACTIONS.join(', ')}` } },
        400,
      );
    }
    const args = await body(c);
    if (!args) return c.json({ ok: false, error: { code: 'bad_args', message: 'body must be a JSON object' } }, 400);
    return change(c, action, action === 'reload' ? {} : { ...args, name: c.req.param('name') });
  });
  return app;
}
