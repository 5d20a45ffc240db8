import { type Context, Hono } from 'hono';
import { ZodError } from 'zod';
import type { Deps } from '../deps';
import { UserError } from '../errors';
import { SourceError } from '../exports/drivers/types';
import { getSourceInfo, listSources, openSource, removeSource, SourceExistsError, saveSource } from '../exports/sources';
import { submitExport } from '../exports/submit-export';
import { taskInput } from '../exports/task-schema';
import { describeTargets, getTask, listTasks, removeTask, saveTask, TaskExistsError } from '../exports/tasks';
import { type AuthVars, callerOf, ensureRole } from './auth';

type C = Context<AuthVars>;

async function jsonBody(c: C): Promise<Record<string, unknown> | Response> {
  try {
    const j = await c.req.json();
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not an object');
    return j as Record<string, unknown>;
  } catch {
    return c.json({ ok: false, error: { code: 'bad_args', message: 'body must be a JSON object' } }, 400);
  }
}

function badArgs(c: C, err: ZodError) {
  const i = err.issues[0];
  const field = i?.path.join('.') || undefined;
  return c.json(
    { ok: false, error: { code: 'bad_args', field, message: err.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ') } },
    400,
  );
}

/**
 * Admin webhooks for data sources and export tasks (bearer token; admin role to change, operator
 * to read and run). Credentials go in, never out: responses describe sources without passwords.
 */
export function exportsAdminRoutes(deps: Deps): Hono<AuthVars> {
  const app = new Hono<AuthVars>();
  // The bearer token is checked once for /hooks/* (src/app.ts); reading and running need operator.
  for (const p of ['/hooks/sources', '/hooks/sources/*', '/hooks/tasks', '/hooks/tasks/*']) {
    app.use(p, async (c, next) => {
      ensureRole(c, deps, 'operator');
      await next();
    });
  }

  const guard = async (c: C, fn: () => Promise<Response>) => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ZodError) return badArgs(c, err);
      if (err instanceof SourceExistsError || err instanceof TaskExistsError)
        return c.json({ ok: false, error: { code: 'conflict', message: err.message } }, 409);
      if (err instanceof UserError) {
        const status = err.code === 'not_found' ? 404 : err.code === 'forbidden' ? 403 : 400;
        return c.json({ ok: false, error: { code: err.code, field: err.field, message: deps.t(err.key, err.vars) } }, status);
      }
      throw err;
    }
  };

  app.get('/hooks/sources', async (c) => c.json({ ok: true, sources: await listSources(deps) }));
  const putSource = (replace: boolean) => async (c: C) =>
    guard(c, async () => {
      ensureRole(c, deps, 'admin');
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      const name = c.req.param('name') ?? body.name;
      const r = await saveSource(deps, { ...body, name } as never, callerOf(c).key, replace);
      return c.json({ ok: true, name, created: r.created, source: await getSourceInfo(deps, String(name)) }, r.created ? 201 : 200);
    });
  app.post('/hooks/sources', putSource(false));
  app.put('/hooks/sources/:name', putSource(true));
  app.delete('/hooks/sources/:name', async (c) => {
    ensureRole(c, deps, 'admin');
    const name = c.req.param('name');
    const users = (await listTasks(deps.db)).filter((t) => t.source === name).map((t) => t.name);
    if (users.length) return c.json({ ok: false, error: { code: 'conflict', message: `used by tasks ${users.join(', ')}` } }, 409);
    return (await removeSource(deps, name))
      ? c.json({ ok: true })
      : c.json({ ok: false, error: { code: 'not_found', message: `no data source "${name}"` } }, 404);
  });
  app.post('/hooks/sources/:name/test', async (c) => {
    const name = c.req.param('name');
    const client = await openSource(deps, name).catch((err: Error) => err);
    if (client instanceof Error) return c.json({ ok: false, error: { code: 'source_error', message: client.message } }, 502);
    if (!client) return c.json({ ok: false, error: { code: 'not_found', message: `no data source "${name}"` } }, 404);
    try {
      return c.json({ ok: true, ms: await client.ping() });
    } catch (err) {
      const message = err instanceof SourceError || err instanceof Error ? err.message : String(err);
      return c.json({ ok: false, error: { code: 'source_error', message } }, 502);
    } finally {
      await client.close().catch(() => {});
    }
  });

  const show = (t: NonNullable<Awaited<ReturnType<typeof getTask>>>) => ({ ...t, targets: describeTargets(t) });
  app.get('/hooks/tasks', async (c) => c.json({ ok: true, tasks: (await listTasks(deps.db)).map(show) }));
  app.get('/hooks/tasks/:name', async (c) => {
    const t = await getTask(deps.db, c.req.param('name'));
    return t
      ? c.json({ ok: true, task: show(t) })
      : c.json({ ok: false, error: { code: 'not_found', message: `no export task "${c.req.param('name')}"` } }, 404);
  });
  const putTask = (replace: boolean) => async (c: C) =>
    guard(c, async () => {
      ensureRole(c, deps, 'admin');
      const body = await jsonBody(c);
      if (body instanceof Response) return body;
      const input = { ...body, name: c.req.param('name') ?? body.name };
      const parsed = taskInput.parse(input);
      if (!(await getSourceInfo(deps, parsed.source))) {
        return c.json(
          { ok: false, error: { code: 'bad_args', field: 'source', message: `source: no data source named "${parsed.source}"` } },
          400,
        );
      }
      const r = await saveTask(deps, input as never, callerOf(c).key, replace);
      return c.json({ ok: true, name: parsed.name, created: r.created }, r.created ? 201 : 200);
    });
  app.post('/hooks/tasks', putTask(false));
  app.put('/hooks/tasks/:name', putTask(true));
  app.delete('/hooks/tasks/:name', async (c) => {
    ensureRole(c, deps, 'admin');
    const name = c.req.param('name');
    return (await removeTask(deps.db, name))
      ? c.json({ ok: true })
      : c.json({ ok: false, error: { code: 'not_found', message: `no export task "${name}"` } }, 404);
  });
  app.post('/hooks/tasks/:name/run', async (c) =>
    guard(c, async () => {
      const raw = await c.req.text();
      const body = raw.trim() ? (JSON.parse(raw) as { params?: Record<string, unknown> }) : {};
      const typed = Object.fromEntries(Object.entries(body.params ?? {}).map(([k, v]) => [k, String(v)]));
      const { job, values } = await submitExport(deps, c.req.param('name'), typed, callerOf(c));
      return c.json({ ok: true, jobId: job.id, values, statusUrl: `${deps.config.PUBLIC_URL}/api/jobs/${job.id}` }, 202);
    }),
  );
  return app;
}
