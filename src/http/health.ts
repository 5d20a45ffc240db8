import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Deps } from '../deps';
import { errorMessage } from '../errors';
import { probeAmqp } from './amqp-probe';

/**
 * GET /health: the database, the DingTalk Stream connection (when configured) and RabbitMQ (when
 * AMQP_URL is set). 503 means one thing only — the database is unreachable (not ready); any other
 * part that is down makes the status `degraded` with its reason, still 200. Raw errors stay in the
 * log; the answer carries a reference to find them.
 */
export function healthRoutes(deps: Deps): Hono {
  const app = new Hono();
  const fail = (component: string, detail: string) => {
    const ref = randomUUID().slice(0, 8);
    deps.log.error({ component, ref, err: detail }, 'health check failed');
    return ref;
  };
  app.get('/health', async (c) => {
    const started = performance.now();
    const amqpUrl = deps.config.AMQP_URL;
    const amqpCheck = amqpUrl ? probeAmqp(amqpUrl) : undefined;
    let database: { ok: boolean; kind: string; latencyMs?: number; error?: string };
    try {
      await Promise.race([
        deps.db.query('select 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3 s')), 3000).unref()),
      ]);
      database = { ok: true, kind: deps.db.kind, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch (err) {
      database = { ok: false, kind: deps.db.kind, error: deps.t('health.dbUnreachable', { ref: fail('database', errorMessage(err)) }) };
    }
    const reasons: string[] = [];
    const streamStatus = deps.stream?.status();
    const dingtalkStream = streamStatus ? { configured: true, ...streamStatus } : { configured: false };
    if (streamStatus && !streamStatus.connected) reasons.push(deps.t('health.streamDown'));
    let rabbitmq: { configured: boolean; ok?: boolean; latencyMs?: number; error?: string } = { configured: false };
    if (amqpCheck) {
      const p = await amqpCheck;
      if (p.ok) rabbitmq = { configured: true, ok: true, latencyMs: p.latencyMs };
      else {
        const error = deps.t('health.amqpDown', { ref: fail('rabbitmq', p.detail ?? 'down') });
        rabbitmq = { configured: true, ok: false, error };
        reasons.push(error);
      }
    }
    if (!database.ok) {
      return c.json({ status: 'unavailable', reasons: [database.error, ...reasons], database, dingtalkStream, rabbitmq }, 503);
    }
    const status = reasons.length > 0 ? 'degraded' : 'ok';
    return c.json({ status, ...(reasons.length > 0 ? { reasons } : {}), database, dingtalkStream, rabbitmq }, 200);
  });
  return app;
}
