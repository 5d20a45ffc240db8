import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp } from './app';
import { createDeps } from './bootstrap';
import { resolveCallbackSecret } from './chat/callback-secret';
import { acceptChatMessage, sweepInbound } from './chat/inbound';
import { parseRobotPayload } from './chat/message';
import { createStreamSupervisor, type StreamSupervisor } from './chat/stream';
import type { Config } from './config';
import { createDb, type Database } from './db/client';
import { migrateDb } from './db/migrate';
import type { Deps, Faults } from './deps';
import { errorMessage } from './errors';
import { checkSecretsKey } from './exports/sources';
import { createRelay, type Relay } from './jobs/relay';
import { createRunner, type Runner } from './jobs/runner';
import { registerJobMetrics } from './jobs/stats';
import { createNotices } from './notify';
import { ensureBuiltinSchedules } from './schedules/builtin';
import { createScheduler, type Scheduler } from './schedules/scheduler';

/** A running instance: HTTP server, optional Stream client, and what stops them. */
export interface RunningServer {
  deps: Deps;
  url: string;
  /** The job runner (absent with RUN_JOBS=false). */
  runner?: Runner;
  relay: Relay;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

/** The HTTP port cannot be used (taken by another process, or privileged): one line says what to set. */
export class PortUnavailableError extends Error {
  constructor(port: number, host: string, code: string) {
    super(
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use: stop the other process, or set PORT to a free port (e.g. PORT=3001; PORT=0 picks any)`
        : `port ${port} on ${host} needs more privileges: set PORT to a port above 1023 (e.g. PORT=3000)`,
    );
    this.name = 'PortUnavailableError';
  }
}

const SWEEP_EVERY_MS = 15_000;

/**
 * Start one instance: database (migrated), HTTP app, DingTalk Stream when configured.
 * main.ts calls this; tests and benchmarks start instances in-process the same way.
 */
export async function startServer(
  config: Config,
  log: Logger,
  opts: { fetch?: typeof fetch; db?: Database; faults?: Faults } = {},
): Promise<RunningServer> {
  const { secret, generatedAt } = resolveCallbackSecret(config);
  if (generatedAt)
    log.info({ file: generatedAt }, 'no DINGTALK_CLIENT_SECRET: HTTP callbacks are signed with the generated secret in this file');
  // A database handed in (tests) stays open; one we open here is closed on stop.
  const ownDb = !opts.db;
  const db = opts.db ?? (await createDb({ url: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: config.DB_POOL_SIZE }));
  let stream: StreamSupervisor | undefined;
  let server: ServerType | undefined;
  try {
    await migrateDb(db);
    const deps = createDeps({ config, db, log, callbackSecret: secret, fetch: opts.fetch });
    await checkSecretsKey(deps); // a changed SECRETS_KEY is a start-up error, not garbage at the first export
    if (opts.faults) deps.faults = opts.faults;
    if (config.streamEnabled && config.DINGTALK_CLIENT_ID && config.DINGTALK_CLIENT_SECRET) {
      const s = createStreamSupervisor({
        clientId: config.DINGTALK_CLIENT_ID,
        clientSecret: config.DINGTALK_CLIENT_SECRET,
        gatewayUrl: `${config.DINGTALK_API_BASE}/v1.0/gateway/connections/open`,
        pingIntervalMs: config.STREAM_PING_INTERVAL_MS,
        fetch: deps.fetch,
        log: log.child({ component: 'stream' }),
        now: deps.now,
        async onRobotMessage(data) {
          const parsed = parseRobotPayload(data, 'stream', { robotCode: config.robotCode, nowMs: deps.now() });
          if (!parsed.ok) {
            log.warn({ error: parsed.error }, 'stream robot message ignored');
            return;
          }
          await acceptChatMessage(deps, parsed.message);
        },
      });
      deps.stream = s;
      stream = s;
    }
    registerJobMetrics(deps.metrics, db);
    const relay = createRelay({
      db,
      notifier: deps.notifier,
      t: deps.t,
      log: log.child({ component: 'relay' }),
      definitions: [...deps.jobDefinitions],
      intervalMs: config.PROGRESS_INTERVAL_MS,
      replyOrder: deps.replyOrder,
    });
    const runner = config.RUN_JOBS
      ? createRunner({
          db,
          log,
          definitions: [...deps.jobDefinitions],
          concurrency: config.JOB_CONCURRENCY,
          leaseMs: config.JOB_LEASE_MS,
          pollIntervalMs: config.JOB_POLL_INTERVAL_MS,
          relay,
          durations: deps.metrics.histogram('job_duration_seconds', 'Attempt durations seen by this instance, by kind and outcome.'),
        })
      : undefined;
    const timers: NodeJS.Timeout[] = [];
    if (runner) {
      // Periodic chores every instance may do; the database keeps them from clashing.
      const chore = (what: string, fn: () => Promise<unknown>) => () =>
        void fn().catch((err) => log.warn({ err: errorMessage(err) }, `${what} failed`));
      timers.push(
        setInterval(
          chore('final-message sweep', () => relay.sweep()),
          SWEEP_EVERY_MS,
        ),
      );
    }
    // Chat messages a dead process recorded but never finished: run them again (or apologise).
    const sweepEvery = Math.max(250, Math.floor(config.INBOUND_LEASE_MS / 2));
    timers.push(
      setInterval(() => void sweepInbound(deps).catch((err) => log.warn({ err: errorMessage(err) }, 'inbound sweep failed')), sweepEvery),
    );
    for (const t of timers) t.unref();
    // Schedules (the retention clean-up is a built-in one) fire in every instance, once per fire.
    const scheduler = createScheduler({
      db,
      log: log.child({ component: 'scheduler' }),
      definitions: deps.jobDefinitions,
      ensure: (d) => ensureBuiltinSchedules(d, config.JOB_RETENTION_DAYS),
      retentionDays: config.JOB_RETENTION_DAYS,
    });
    const app = createApp(deps);
    const started = await new Promise<ServerType>((resolve, reject) => {
      const srv = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(srv));
      srv.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortUnavailableError(config.PORT, config.HOST, err.code) : err),
      );
    });
    server = started;
    const { port } = started.address() as AddressInfo;
    const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
    await runner?.start();
    // Notices (group robots, e-mail) from the durable outbox: one sender loop per job-running instance.
    const notices = runner ? createNotices(deps, { box: deps.secrets }) : undefined;
    await notices?.start();
    await scheduler.start();
    stream?.start();
    log.info({ url, database: db.kind, stream: Boolean(stream), locale: config.LOCALE }, 'chat-ops bot started');
    let stopping: Promise<void> | undefined;
    return {
      deps,
      url,
      runner,
      relay,
      scheduler,
      stop() {
        stopping ??= (async () => {
          // No new work in, then let running jobs finish (or release them), then close.
          await stream?.stop();
          await new Promise<void>((resolve) => started.close(() => resolve()));
          for (const t of timers) clearInterval(t);
          await scheduler.stop();
          await runner?.stop(config.JOB_SHUTDOWN_GRACE_MS);
          await notices?.stop();
          await Promise.race([relay.idle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
          await deps.background.drain(10_000);
          await deps.publisher?.close();
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
