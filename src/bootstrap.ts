import type { Logger } from 'pino';
import { commands } from '../commands';
import { rawPresets } from '../presets';
import { createAccessTokens } from './chat/access-token';
import { createRegistry } from './chat/registry';
import { createReplier } from './chat/replier';
import type { Config } from './config';
import type { Database } from './db/client';
import { createBackground, type Deps } from './deps';
import { loadModels } from './diagnosis/models';
import { createSecretBox } from './exports/secret-box';
import { createJobDefinitions } from './handlers';
import { createTranslator } from './i18n';
import { createPooledPost } from './lib/pooled-post';
import { createReplyOrder } from './lib/reply-order';
import { createMetrics } from './metrics/metrics';
import { createPresetRegistry } from './push/presets';
import { createPublisher } from './push/publisher';

/** Assemble the Deps every entry point (server, CLI, tests) runs on. */
export function createDeps(opts: {
  config: Config;
  db: Database;
  log: Logger;
  callbackSecret: string;
  fetch?: typeof fetch;
  now?: () => number;
}): Deps {
  const { config, db, log } = opts;
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const now = opts.now ?? Date.now;
  const tokens =
    config.DINGTALK_CLIENT_ID && config.DINGTALK_CLIENT_SECRET
      ? createAccessTokens({
          apiBase: config.DINGTALK_API_BASE,
          appKey: config.DINGTALK_CLIENT_ID,
          appSecret: config.DINGTALK_CLIENT_SECRET,
          fetch: fetchFn,
          now,
        })
      : undefined;
  const t = createTranslator(config.LOCALE);
  const presets = createPresetRegistry(rawPresets);
  const models = loadModels(config);
  const publisher = config.AMQP_URL
    ? createPublisher({ url: config.AMQP_URL, appId: config.AMQP_APP_ID, log, now, connectTimeoutMs: config.AMQP_RECONNECT_BUDGET_MS })
    : undefined;
  const secrets = createSecretBox(config);
  const notifier = createReplier({
    apiBase: config.DINGTALK_API_BASE,
    robotCode: config.robotCode,
    tokens,
    fetch: fetchFn,
    // Replies over pooled keep-alive connections, unless a fetch was handed in (tests that fake DingTalk).
    post: opts.fetch ? undefined : createPooledPost(),
    now,
    log,
    replyHosts: config.DINGTALK_REPLY_HOSTS,
    // Loopback replies (npm run chat) only while callbacks are signed with the generated local secret.
    allowLoopback: !config.DINGTALK_CLIENT_SECRET,
    truncatedNote: (cut) => t('reply.truncated', { cut }),
  });
  const deps: Deps = {
    config,
    db,
    log,
    t,
    now,
    fetch: fetchFn,
    notifier,
    registry: createRegistry(commands),
    jobDefinitions: createJobDefinitions({
      config,
      t,
      presets,
      publisher,
      models,
      secrets,
      fetch: fetchFn,
      callbackSecret: opts.callbackSecret,
      now,
      deps: () => deps,
    }),
    presets,
    publisher,
    models,
    metrics: createMetrics(),
    background: createBackground(),
    replyOrder: createReplyOrder(),
    callbackSecret: opts.callbackSecret,
    secrets,
  };
  return deps;
}
