import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp } from './app';
import { createDeps } from './bootstrap';
import { resolveCallbackSecret } from './chat/callback-secret';
import { handleChatMessage } from './chat/inbound';
import { parseRobotPayload } from './chat/message';
import { type StreamSupervisor, createStreamSupervisor } from './chat/stream';
import type { Config } from './config';
import { type Database, createDb } from './db/client';
import { migrateDb } from './db/migrate';
import type { Deps } from './deps';

/** A running instance: HTTP server, optional Stream client, and what stops them. */
export interface RunningServer {
  deps: Deps;
  url: string;
  stop(): Promise<void>;
}

/**
 * Start one instance: database (migrated), HTTP app, DingTalk Stream when configured.
 * main.ts calls this; tests and benchmarks start instances in-process the same way.
 */
export async function startServer(
  config: Config,
  log: Logger,
  opts: { fetch?: typeof fetch; db?: Database } = {},
): Promise<RunningServer> {
  const { secret, generatedAt } = resolveCallbackSecret(config);
  if (generatedAt) log.info({ file: generatedAt }, 'no DINGTALK_CLIENT_SECRET: HTTP callbacks are signed with the generated secret in this file');
  // A database handed in (tests) stays open; one we open here is closed on stop.
  const ownDb = !opts.db;
  const db = opts.db ?? (await createDb({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DB_POOL_SIZE }));
  let stream: StreamSupervisor | undefined;
  let server: ServerType | undefined;
  try {
    await migrateDb(db);
    const deps = createDeps({ config, db, log, callbackSecret: secret, fetch: opts.fetch });
    if (config.streamEnabled && config.DINGTALK_CLIENT_ID && config.DINGTALK_CLIENT_SECRET) {
      const s = createStreamSupervisor({
        clientId: config.DINGTALK_CLIENT_ID,
        clientSecret: config.DINGTALK_CLIENT_SECRET,
        gatewayUrl: `${config.DINGTALK_API_BASE}/v1.0/gateway/connections/open`,
        fetch: deps.fetch,
        log: log.child({ component: 'stream' }),
        now: deps.now,
        async onRobotMessage(data) {
          const parsed = parseRobotPayload(data, 'stream', { robotCode: config.robotCode, nowMs: deps.now() });
          if (!parsed.ok) {
            log.warn({ error: parsed.error }, 'stream robot message ignored');
            return;
          }
          await handleChatMessage(deps, parsed.message);
        },
      });
      deps.stream = s;
      stream = s;
    }
    const app = createApp(deps);
    const started = await new Promise<ServerType>((resolve) => {
      const srv = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(srv));
    });
    server = started;
    const { port } = started.address() as AddressInfo;
    const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
    stream?.start();
    log.info({ url, database: db.kind, stream: Boolean(stream), locale: config.LOCALE }, 'chat-ops bot started');
    let stopping: Promise<void> | undefined;
    return {
      deps,
      url,
      stop() {
        stopping ??= (async () => {
          await stream?.stop();
          await new Promise<void>((resolve) => started.close(() => resolve()));
          await deps.background.drain(10_000);
          if (ownDb) await db.close();
          log.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await stream?.stop();
    server?.close();
    if (ownDb) await db.close();
    throw err;
  }
}
