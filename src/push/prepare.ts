import type { Config } from '../config';
import { UserError } from '../errors';
import type { Locale } from '../i18n';
import type { Preset } from './preset-schema';
import type { PresetRegistry } from './presets';
import { buildSpec, type PushSpec, presetName } from './spec';

/** What a push request says, from chat, a template or the webhook. */
export interface PushRequest {
  type: string;
  /** Short names or JSON paths -> values as typed (strings from chat, JSON values from the webhook). */
  overrides: Record<string, unknown>;
  /** `A001*2,B002`, or `[{ sku, quantity }]` from the webhook. */
  items?: unknown;
  count?: number;
  queue?: string;
}

/** Whether a queue matches an allow-list of exact names and `prefix*` patterns. */
export function isQueueAllowed(queue: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => (a.endsWith('*') ? queue.startsWith(a.slice(0, -1)) : a === queue));
}

/**
 * The allow-list in force: PUSH_ALLOWED_QUEUES (by default the presets' own queues) plus
 * PUSH_EXTRA_QUEUES, so adding one queue does not mean listing all the others.
 */
export function allowedQueues(config: Pick<Config, 'PUSH_ALLOWED_QUEUES' | 'PUSH_EXTRA_QUEUES'>, presets: PresetRegistry): string[] {
  return [...new Set([...(config.PUSH_ALLOWED_QUEUES ?? presets.queues()), ...config.PUSH_EXTRA_QUEUES])];
}

/** A count as typed (`5`) or sent (5); NaN for anything else (`1.5`, `abc`), which preparePush refuses. */
export function parseCount(raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') return raw;
  return /^\s*\d+\s*$/.test(String(raw)) ? Number(raw) : Number.NaN;
}

/** Find the preset a word names, or throw a reply that lists the types (and the closest ones). */
export function findPreset(presets: PresetRegistry, word: string, locale: Locale): Preset {
  const p = presets.get(word);
  if (p) return p;
  const near = presets.suggest(word);
  const sep = locale === 'en' ? ', ' : '、';
  const all = presets.list.map((x) => `${presetName(x, locale)}(${x.type})`).join(sep);
  throw new UserError(
    'bad_args',
    near.length ? 'push.unknownTypeNear' : 'push.unknownType',
    { type: word, near: near.join(sep), types: all },
    'type',
  );
}

/**
 * Validate a push request completely (type, fields, items, count, queue allow-list, the preset's
 * rules) and return the spec the job will render. Throws UserError with a helpful message.
 */
export function preparePush(
  req: PushRequest,
  env: {
    presets: PresetRegistry;
    config: Pick<Config, 'PUSH_MAX_COUNT' | 'PUSH_ALLOWED_QUEUES' | 'PUSH_EXTRA_QUEUES'>;
    locale: Locale;
    nowMs: number;
  },
): { preset: Preset; spec: PushSpec } {
  const preset = findPreset(env.presets, req.type, env.locale);
  const count = req.count ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new UserError('bad_args', 'push.badCount', { max: env.config.PUSH_MAX_COUNT }, 'count');
  if (count > env.config.PUSH_MAX_COUNT) {
    throw new UserError('bad_args', 'push.countTooLarge', { count, max: env.config.PUSH_MAX_COUNT }, 'count');
  }
  const queue = req.queue ?? preset.queue;
  const allowed = allowedQueues(env.config, env.presets);
  if (!isQueueAllowed(queue, allowed)) {
    throw new UserError('forbidden', 'push.queueNotAllowed', { queue, allowed: allowed.join(env.locale === 'en' ? ', ' : '、') }, 'queue');
  }
  const spec = buildSpec(preset, { overrides: req.overrides, items: req.items, count, queue }, env.locale, env.nowMs);
  return { preset, spec };
}
