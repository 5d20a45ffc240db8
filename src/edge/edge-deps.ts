import type { Logger } from 'pino';
import { commands } from '../../commands';
import { rawPresets } from '../../presets';
import { createRegistry } from '../chat/registry';
import { ConfigError, loadConfig } from '../config';
import type { Database } from '../db/types';
import type { Background, Deps } from '../deps';
import { loadModels } from '../diagnosis/models';
import { createJobDefinitions } from '../handlers';
import { createTranslator } from '../i18n';
import { createReplyOrder } from '../lib/reply-order';
import { createMetrics } from '../metrics/metrics';
import { createPresetRegistry } from '../push/presets';

/** A Hyperdrive binding: a connection string that reaches the origin Postgres through Cloudflare's pool. */
export interface HyperdriveBinding {
  connectionString: string;
}

/** The Worker's bindings (wrangler.toml [vars], secrets, and the Hyperdrive binding). */
export interface EdgeEnv {
  HYPERDRIVE?: HyperdriveBinding;
  [name: string]: unknown;
}

/** The settings of the edge, or every problem with them (answered on each request until fixed). */
export type EdgeSettings = { ok: true; env: Record<string, string>; url: string; secret: string } | { ok: false; problems: string[] };

/**
 * Read the Worker's bindings with the Node side's config rules (src/config.ts): string vars and
 * secrets by the same names, DATABASE_URL from the Hyperdrive binding. The callback secret must be
 * a secret here: the edge has no DATA_DIR to keep a generated one in.
 */
export function readEdgeSettings(bindings: EdgeEnv): EdgeSettings {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(bindings)) if (typeof v === 'string') env[k] = v;
  const problems: string[] = [];
  const url = bindings.HYPERDRIVE?.connectionString;
  if (!url) problems.push('HYPERDRIVE: no Hyperdrive binding; add [[hyperdrive]] binding = "HYPERDRIVE" to wrangler.toml');
  const secret = env.DINGTALK_CLIENT_SECRET;
  if (!secret) problems.push('DINGTALK_CLIENT_SECRET: not set; run: npx wrangler secret put DINGTALK_CLIENT_SECRET');
  try {
    loadConfig({ ...env, DATABASE_URL: url });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !url || !secret) return { ok: false, problems };
  return { ok: true, env: { ...env, DATABASE_URL: url }, url, secret };
}

/**
 * Deps for one Worker request: the same shape the Node routes take, with the parts the edge never
 * uses (replies to DingTalk, a broker) left out — the edge only records, checks
 * and queues; Node instances dispatch, run jobs and reply.
 */
/** The edge seals and opens no credentials: data sources and robot secrets are handled by Node instances. */
const edgeSecrets = {
  encrypt(): string {
    throw new Error('credentials are sealed on Node instances, not at the edge: call the admin webhook on a Node instance');
  },
  decrypt(): string {
    throw new Error('credentials are opened on Node instances, not at the edge');
  },
  keyId(): string {
    return 'edge';
  },
};

export function createEdgeDeps(opts: {
  settings: Extract<EdgeSettings, { ok: true }>;
  db: Database;
  log: Logger;
  background: Background;
  now?: () => number;
}): Deps {
  const config = loadConfig(opts.settings.env);
  const t = createTranslator(config.LOCALE);
  const presets = createPresetRegistry(rawPresets);
  const now = opts.now ?? Date.now;
  // The edge never calls a model (Node instances run diagnoses); the inline list is enough to check names.
  const models = loadModels({ DIAGNOSIS_MODELS: config.DIAGNOSIS_MODELS, DIAGNOSIS_MODELS_FILE: undefined });
  return {
    config,
    db: opts.db,
    log: opts.log,
    t,
    now,
    fetch: globalThis.fetch,
    replyOrder: createReplyOrder(),
    notifier: {
      send() {
        throw new Error('the edge does not reply to DingTalk: Node instances do');
      },
    },
    registry: createRegistry(commands),
    jobDefinitions: createJobDefinitions({
      config,
      t,
      presets,
      now,
      models,
      secrets: edgeSecrets,
      fetch: globalThis.fetch,
      callbackSecret: opts.settings.secret,
    }),
    models,
    presets,
    metrics: createMetrics(),
    background: opts.background,
    callbackSecret: opts.settings.secret,
    secrets: edgeSecrets,
  };
}
