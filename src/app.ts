import { randomUUID } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { callbackRoutes } from './chat/callback-route';
import type { Deps } from './deps';
import { requireToken } from './http/auth';
import { BODY_LIMITS } from './http/body';
import { diagnosisApiRoutes } from './http/diagnosis-api';
import { ApiError, errorBody } from './http/errors';
import { exportsAdminRoutes } from './http/exports-admin';
import { fileRoutes } from './http/files';
import { healthRoutes } from './http/health';
import { hookRoutes } from './http/hooks';
import { jobsApiRoutes } from './http/jobs-api';
import { pushHookRoutes } from './http/push-hook';
import { schedulesApiRoutes } from './http/schedules-api';

export { BODY_LIMITS } from './http/body';

const CODES: Record<number, string> = { 400: 'bad_args', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'too_large' };

/** Build the HTTP app (DingTalk callback, admin webhooks, health, metrics). No I/O happens here. */
export function createApp(deps: Deps): Hono {
  const app = new Hono();

  // Request ids: this process's random prefix and a counter (a UUID per request costs more than the
  // rest of a small request's routing). Set before the handler runs, so the answer carries it without
  // the response being rebuilt to add a header.
  const idPrefix = randomUUID().slice(0, 8);
  let requestSeq = 0;
  const debug = deps.log.isLevelEnabled('debug');
  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? `${idPrefix}-${(++requestSeq).toString(36)}`;
    c.header('x-request-id', requestId);
    if (!debug) return next();
    const started = performance.now();
    await next();
    deps.log.debug(
      { requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });

  // One error shape everywhere: { ok: false, error: { code, message, field? } }, in the configured locale.
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json(errorBody(err.code, err.message, err.field), err.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return c.json(errorBody(CODES[status] ?? 'error', err.message), status);
    }
    const ref = randomUUID().slice(0, 8);
    deps.log.error({ err, ref, path: c.req.path }, 'request failed');
    return c.json(errorBody('internal', deps.t('http.internal', { ref })), 500);
  });
  app.notFound((c) =>
    c.json(errorBody('not_found', deps.t('http.noRoute', { method: c.req.method, path: c.req.path.slice(0, 200) })), 404),
  );

  const limit = (maxSize: number): MiddlewareHandler => {
    const tooLarge = (c: Context) => c.json(errorBody('too_large', deps.t('http.bodyTooLarge', { limit: maxSize })), 413);
    const streamed = bodyLimit({ maxSize, onError: tooLarge });
    // A Content-Length without Transfer-Encoding is decided from the header alone, as bodyLimit
    // does, but without asking for the body stream (which builds a web Request per call on Node).
    return (c, next) => {
      const length = c.req.header('content-length');
      if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
        return Number.parseInt(length, 10) > maxSize ? Promise.resolve(tooLarge(c)) : next();
      }
      return streamed(c, next);
    };
  };
  app.use('/dingtalk/*', limit(BODY_LIMITS.callback));
  app.use('/hooks/*', limit(BODY_LIMITS.api));
  app.use('/api/*', limit(BODY_LIMITS.api));
  // One token check and one per-caller rate limit for every webhook and API route.
  app.use('/hooks/*', requireToken(deps));
  app.use('/api/*', requireToken(deps));

  app.route('/', healthRoutes(deps));
  app.route('/', callbackRoutes(deps));
  app.route('/', hookRoutes(deps));
  app.route('/', jobsApiRoutes(deps));
  app.route('/', pushHookRoutes(deps));
  app.route('/', diagnosisApiRoutes(deps));
  app.route('/', fileRoutes(deps));
  app.route('/', exportsAdminRoutes(deps));
  app.route('/', schedulesApiRoutes(deps));
  app.get('/metrics', async (c) => c.text(await deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  return app;
}
