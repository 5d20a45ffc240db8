import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { callbackRoutes } from './chat/callback-route';
import type { Deps } from './deps';
import { exportsAdminRoutes } from './http/exports-admin';
import { fileRoutes } from './http/files';
import { healthRoutes } from './http/health';
import { hookRoutes } from './http/hooks';
import { jobsApiRoutes } from './http/jobs-api';
import { pushHookRoutes } from './http/push-hook';

/** Build the HTTP app (DingTalk callback, admin webhooks, health, metrics). No I/O happens here. */
export function createApp(deps: Deps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? randomUUID();
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    deps.log.debug(
      { requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) return c.json({ error: err.message }, err.status);
    deps.log.error({ err, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.route('/', healthRoutes(deps));
  app.route('/', callbackRoutes(deps));
  app.route('/', hookRoutes(deps));
  app.route('/', jobsApiRoutes(deps));
  app.route('/', pushHookRoutes(deps));
  app.route('/', fileRoutes(deps));
  app.route('/', exportsAdminRoutes(deps));
  app.get('/metrics', async (c) => c.text(await deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  return app;
}
