import type { Logger } from 'pino';
import { commands } from '../commands';
import { createAccessTokens } from './chat/access-token';
import { createReplier } from './chat/replier';
import { createRegistry } from './chat/registry';
import type { Config } from './config';
import type { Database } from './db/client';
import { type Deps, createBackground } from './deps';
import { createMetrics } from './http/metrics';
import { jobDefinitions } from './handlers';
import { createTranslator } from './i18n';

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
  return {
    config,
    db,
    log,
    t: createTranslator(config.LOCALE),
    now,
    fetch: fetchFn,
    notifier: createReplier({ apiBase: config.DINGTALK_API_BASE, robotCode: config.robotCode, tokens, fetch: fetchFn, now, log }),
    registry: createRegistry(commands),
    jobDefinitions,
    metrics: createMetrics(),
    background: createBackground(),
    callbackSecret: opts.callbackSecret,
  };
}
