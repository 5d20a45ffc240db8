import { type Context, Hono } from 'hono';
import { ZodError } from 'zod';
import type { Deps } from '../deps';
import { UserError } from '../errors';
import { SourceError } from '../exports/drivers/types';
import { getSourceInfo, listSources, openSource, removeSource, SourceExistsError, saveSource, sourceInput } from '../exports/sources';
import { submitExport } from '../exports/submit-export';
import { taskInput } from '../exports/task-schema';
import { describeTargets, getTask, listTasks, removeTask, saveTask, TaskExistsError } from '../exports/tasks';
import { jobStatusUrl } from '../jobs/reads';
import { type AuthVars, callerOf, ensureRole } from './auth';
import { readJsonObject } from './body';
import { ApiError, errorBody, invalidFieldError } from './errors';

type C = Context<AuthVars>;

const SOURCE_EXAMPLE = '{"name":"shop-replica","kind":"postgres","host":"10.0.0.5","database":"shop","user":"reader","password":"…"}';
const TASK_EXAMPLE = '{"name":"daily-orders","source":"shop-replica","sql":"select * from orders where created_at >= :date"}';
const RUN_EXAMPLE = '{"params":{"date":"2026-12-01"}}';

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

  const fail = (c: C, status: 400 | 404 | 409, code: string, message: string, field?: string) =>
    c.json(errorBody(code, message, field), status);
  const noSource = async (c: C, name: string, status: 400 | 404 = 404, field?: string) => {
    const names = (await listSources(deps)).map((x) => x.name).join(deps.t('list.sep'));
    return fail(c, status, status === 404 ? 'not_found' : 'bad_args', deps.t('source.unknown', { name, names }), field);
  };
  const noTask = async (c: C, task: string) => {
    const tasks = (await listTasks(deps.db)).map((x) => x.name).join(deps.t('list.sep')) || '-';
    return fail(c, 404, 'not_found', deps.t('hooks.noTask', { task, tasks }));
  };
  // Every failure in the configured language, in the one error shape (never zod's English).
  const guard = async (c: C, example: string, known: readonly string[], fn: () => Promise<Response>) => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ZodError) throw invalidFieldError(deps, err.issues, { example, known });
      if (err instanceof SourceExistsError) return fail(c, 409, 'conflict', deps.t('hooks.sourceExists', { name: err.sourceName }));
      if (err instanceof TaskExistsError) return fail(c, 409, 'conflict', deps.t('hooks.taskExists', { name: err.taskName }));
      if (err instanceof UserError) {
        const status = err.code === 'not_found' ? 404 : err.code === 'forbidden' ? 403 : 400;
        return c.json(errorBody(err.code, deps.t(err.key, err.vars), err.field), status);
      }
      throw err;
    }
  };
  const sourceKeys = Object.keys(sourceInput.shape);
  const taskKeys = Object.keys(taskInput.shape);

  app.get('/hooks/sources', async (c) => c.json({ ok: true, sources: await listSources(deps) }));
  const putSource = (replace: boolean) => async (c: C) =>
    guard(c, SOURCE_EXAMPLE, sourceKeys, async () => {
      ensureRole(c, deps, 'admin');
      const { json: body } = await readJsonObject(c, deps, SOURCE_EXAMPLE);
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
    if (users.length) return fail(c, 409, 'conflict', deps.t('hooks.sourceInUse', { name, tasks: users.join(deps.t('list.sep')) }));
    return (await removeSource(deps, name)) ? c.json({ ok: true }) : noSource(c, name);
  });
  app.post('/hooks/sources/:name/test', async (c) => {
    const name = c.req.param('name');
    const client = await openSource(deps, name).catch((err: Error) => err);
    if (client instanceof Error) return c.json(errorBody('source_error', deps.t('source.failed', { name, error: client.message })), 502);
    if (!client) return noSource(c, name);
    try {
      return c.json({ ok: true, ms: await client.ping() });
    } catch (err) {
      const error = err instanceof SourceError || err instanceof Error ? err.message : String(err);
      return c.json(errorBody('source_error', deps.t('source.failed', { name, error })), 502);
    } finally {
      await client.close().catch(() => {});
    }
  });

  const show = (t: NonNullable<Awaited<ReturnType<typeof getTask>>>) => ({ ...t, targets: describeTargets(t) });
  app.get('/hooks/tasks', async (c) => c.json({ ok: true, tasks: (await listTasks(deps.db)).map(show) }));
  app.get('/hooks/tasks/:name', async (c) => {
    const t = await getTask(deps.db, c.req.param('name'));
    return t ? c.json({ ok: true, task: show(t) }) : noTask(c, c.req.param('name'));
  });
  const putTask = (replace: boolean) => async (c: C) =>
    guard(c, TASK_EXAMPLE, taskKeys, async () => {
      ensureRole(c, deps, 'admin');
      const { json: body } = await readJsonObject(c, deps, TASK_EXAMPLE);
      const input = { ...body, name: c.req.param('name') ?? body.name };
      const parsed = taskInput.parse(input);
      if (!(await getSourceInfo(deps, parsed.source))) return noSource(c, parsed.source, 400, 'source');
      const r = await saveTask(deps, input as never, callerOf(c).key, replace);
      return c.json({ ok: true, name: parsed.name, created: r.created }, r.created ? 201 : 200);
    });
  app.post('/hooks/tasks', putTask(false));
  app.put('/hooks/tasks/:name', putTask(true));
  app.delete('/hooks/tasks/:name', async (c) => {
    ensureRole(c, deps, 'admin');
    const name = c.req.param('name');
    return (await removeTask(deps.db, name)) ? c.json({ ok: true }) : noTask(c, name);
  });
  app.post('/hooks/tasks/:name/run', async (c) =>
    guard(c, RUN_EXAMPLE, ['params'], async () => {
      const { json: body } = await readJsonObject(c, deps, RUN_EXAMPLE, ['params']);
      const given = body.params ?? {};
      if (typeof given !== 'object' || given === null || Array.isArray(given)) {
        throw new ApiError(
          400,
          'bad_args',
          deps.t('http.fieldExpected', { field: 'params', expected: deps.t('hooks.expect.object'), example: RUN_EXAMPLE }),
          'params',
        );
      }
      const typed = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, String(v)]));
      const { job, values } = await submitExport(deps, c.req.param('name'), typed, callerOf(c));
      return c.json({ ok: true, jobId: job.id, values, statusUrl: jobStatusUrl(deps.config, job.id) }, 202);
    }),
  );
  return app;
}
