// Cloudflare Workers entry (wrangler.toml, DESIGN.md §9): the edge ingress. It verifies DingTalk
// callbacks and admin webhooks, records and queues them in Postgres (through Hyperdrive) and
// answers at once; Node instances (`npm start`) dispatch, run the jobs and reply.
import type { Logger } from 'pino';
import { createPostgresDb } from './db/postgres';
import type { Background } from './deps';
import { createEdgeApp } from './edge/edge-app';
import { createEdgeDeps, type EdgeEnv, readEdgeSettings } from './edge/edge-deps';
import { errorBody } from './http/errors';

/** The part of the Workers ExecutionContext we use. */
interface ExecutionContext {
  waitUntil(p: Promise<unknown>): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** A pino-shaped logger over the Workers console (Workers Logs / `wrangler tail` collect it as JSON). */
function createEdgeLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  const min = Math.max(0, LEVELS.indexOf(level as (typeof LEVELS)[number]));
  const log: Record<string, unknown> = { child: (more: Record<string, unknown>) => createEdgeLogger(level, { ...bindings, ...more }) };
  LEVELS.forEach((name, i) => {
    log[name] = (obj: unknown, msg?: string) => {
      if (i < min) return;
      const fields = typeof obj === 'object' && obj !== null ? obj : { msg: obj };
      const err = (fields as { err?: unknown }).err;
      console.log(JSON.stringify({ level: name, ...bindings, ...fields, ...(err instanceof Error ? { err: err.message } : {}), msg }));
    };
  });
  return log as unknown as Logger;
}

export default {
  async fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext): Promise<Response> {
    const settings = readEdgeSettings(env);
    if (!settings.ok) {
      return Response.json(errorBody('misconfigured', `The edge Worker is not configured: ${settings.problems.join('; ')}`), {
        status: 503,
      });
    }
    // One small client per request: Hyperdrive keeps the pooled connections to the origin.
    const db = createPostgresDb(settings.url, { poolSize: 5, applicationName: 'chatops-edge' });
    const background: Background = {
      track: (p) => ctx.waitUntil(p.catch(() => {})),
      drain: async () => {},
    };
    const deps = createEdgeDeps({ settings, db, log: createEdgeLogger(settings.env.LOG_LEVEL ?? 'info'), background });
    try {
      return await createEdgeApp(deps).fetch(request);
    } finally {
      ctx.waitUntil(db.close());
    }
  },
};
