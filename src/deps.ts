import type { Logger } from 'pino';
import type { CommandRegistry } from './chat/registry';
import type { Config } from './config';
import type { Database } from './db/client';
import type { ModelSet } from './diagnosis/models';
import type { SecretBox } from './exports/secret-box';
import type { Translator } from './i18n';
import type { AnyJobDefinition } from './jobs/types';
import type { ReplyOrder } from './lib/reply-order';
import type { Metrics } from './metrics/metrics';
import type { Notifier } from './outbound';
import type { PresetRegistry } from './push/presets';
import type { Publisher } from './push/publisher';

/** Connection state of the DingTalk Stream client, for /health. */
export interface StreamStatus {
  connected: boolean;
  since?: number;
  lastFrameAt?: number;
  reconnects: number;
  lastError?: string;
}

/** Promises started in the background (reply deliveries) that shutdown should wait for. */
export interface Background {
  track(p: Promise<unknown>): void;
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Everything the app needs, built once by main.ts (or by a test) and passed down.
 * No module keeps its own connection, config or cache.
 */
export interface Deps {
  config: Config;
  db: Database;
  log: Logger;
  t: Translator;
  now: () => number;
  fetch: typeof fetch;
  notifier: Notifier;
  registry: CommandRegistry;
  /** Every job kind (src/handlers.ts); commands enqueue with their defaults. */
  jobDefinitions: readonly AnyJobDefinition[];
  /** Order-message presets (presets/). */
  presets: PresetRegistry;
  /** RabbitMQ publisher; absent without AMQP_URL (pushes then fail with a message saying so). */
  publisher?: Publisher;
  /** LLM endpoints for brand diagnoses (DIAGNOSIS_MODELS / DIAGNOSIS_MODELS_FILE); may be empty. */
  models: ModelSet;
  metrics: Metrics;
  background: Background;
  /** A job's messages wait for the reply that announced it (src/lib/reply-order.ts). */
  replyOrder: ReplyOrder;
  /** The key that signs HTTP callbacks: the app secret, or one generated and kept in DATA_DIR. */
  callbackSecret: string;
  /** Seals stored credentials (data-source passwords, robot secrets); SECRETS_KEY or DATA_DIR/secrets-key. */
  secrets: SecretBox;
  stream?: { status(): StreamStatus };
  /** Test-only fault points (a crash between two steps); never set in production. */
  faults?: Faults;
}

/** Places where a test can stop the process between two steps that must not lose work. */
export interface Faults {
  /** After a chat message's inbound row is committed, before it is dispatched. */
  afterInboundRecorded?(message: { msgId: string }): Promise<void>;
}

/** A Background that remembers in-flight promises until they settle. */
export function createBackground(): Background {
  const pending = new Set<Promise<unknown>>();
  return {
    track(p) {
      const q = p.catch(() => {}).finally(() => pending.delete(q));
      pending.add(q);
    },
    async drain(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...pending]),
        new Promise((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}
