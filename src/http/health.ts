import { Hono } from 'hono';
import type { Deps } from '../deps';
import { errorMessage } from '../errors';

/** GET /health: database, DingTalk stream (when configured) and overall status; 200 or 503. */
export function healthRoutes(deps: Deps): Hono {
  const app = new Hono();
  app.get('/health', async (c) => {
    const started = performance.now();
    let database: { ok: boolean; kind: string; latencyMs?: number; error?: string };
    try {
      await Promise.race([
        deps.db.query('select 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3 s')), 3000).unref()),
      ]);
      database = { ok: true, kind: deps.db.kind, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch (err) {
      database = { ok: false, kind: deps.db.kind, error: errorMessage(err) };
    }
    const streamStatus = deps.stream?.status();
    const stream = streamStatus ? { configured: true, ...streamStatus } : { configured: false };
    const ok = database.ok && (!streamStatus || streamStatus.connected);
    return c.json({ status: ok ? 'ok' : 'unavailable', database, dingtalkStream: stream }, ok ? 200 : 503);
  });
  return app;
}
