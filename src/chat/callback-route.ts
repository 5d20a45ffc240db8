import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Deps } from '../deps';
import { handleChatMessage } from './inbound';
import { parseRobotPayload } from './message';
import { verifySignature } from './sign';

/**
 * POST /dingtalk/callback: DingTalk's HTTP-mode robot callback. The timestamp/sign headers are
 * checked before anything else; the reply goes out through the sessionWebhook afterwards.
 */
export function callbackRoutes(deps: Deps): Hono {
  const app = new Hono();
  app.post('/dingtalk/callback', async (c) => {
    const headers = { timestamp: c.req.header('timestamp'), sign: c.req.header('sign') };
    if (!verifySignature(deps.callbackSecret, headers, deps.now())) {
      throw new HTTPException(401, { message: 'missing, invalid or stale timestamp/sign' });
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body is not JSON' }, 400);
    }
    const parsed = parseRobotPayload(body, 'http', {
      robotCode: deps.config.robotCode,
      nowMs: deps.now(),
    });
    if (!parsed.ok) return c.json({ error: parsed.error }, 400);
    const r = await handleChatMessage(deps, parsed.message);
    return c.json(r.duplicate ? { duplicate: true } : {});
  });
  return app;
}
