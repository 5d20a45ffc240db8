import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type Config, ConfigError } from '../config';

/** One OpenAI-compatible chat-completion endpoint, configured by name. */
export interface ModelConfig {
  name: string;
  /** Base URL up to `/chat/completions`, e.g. https://api.deepseek.com/v1. */
  baseUrl: string;
  /** The model id sent in the request body. */
  model: string;
  apiKey?: string;
  /** Calls to this model in flight at once. */
  concurrency: number;
  /** Requests (retries included) allowed per `rateWindowMs`. */
  rpm: number;
  /** The rate window; a minute unless a test or a vendor's own limits say otherwise. */
  rateWindowMs: number;
  /** One call's time limit, connection to last byte. */
  timeoutMs: number;
  /** Retries after 429, 5xx, network errors and timeouts. */
  maxRetries: number;
  temperature?: number;
  maxTokens?: number;
  systemPrompt?: string;
}

/** The configured models, by name. */
export interface ModelSet {
  list: readonly ModelConfig[];
  get(name: string): ModelConfig | undefined;
  /** Where they came from (for messages): the env variable or the file. */
  source: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

const entry = z.object({
  baseUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. https://api.deepseek.com/v1' }),
  model: z.string().min(1, { error: 'expected the model id, e.g. deepseek-chat' }),
  apiKey: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(100).default(4),
  rpm: z.number().int().min(1).max(100_000).default(60),
  rateWindowMs: z.number().int().min(100).max(3_600_000).default(60_000),
  timeoutMs: z.number().int().min(100).max(600_000).default(60_000),
  maxRetries: z.number().int().min(0).max(10).default(3),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).optional(),
  systemPrompt: z.string().optional(),
});

/** The JSON shape of DIAGNOSIS_MODELS / the models file, shown when it is wrong. */
export const MODELS_EXAMPLE =
  '{"doubao":{"baseUrl":"https://ark.cn-beijing.volces.com/api/v3","model":"doubao-1-5-pro-32k-250115","apiKey":"…","concurrency":4,"rpm":60,"timeoutMs":60000}}';

/**
 * Parse the models JSON: an object of name -> endpoint (or a list of endpoints with `name`).
 * Pure. Throws ConfigError listing every problem (keys are never echoed).
 */
export function parseModels(text: string, source: string): ModelSet {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${source}: not valid JSON (${(err as Error).message}); example: ${MODELS_EXAMPLE}`]);
  }
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((r, i) => [String((r as { name?: unknown })?.name ?? `#${i + 1}`), r])
    : raw && typeof raw === 'object'
      ? Object.entries(raw)
      : [];
  if (entries.length === 0) throw new ConfigError([`${source}: expected an object of models by name; example: ${MODELS_EXAMPLE}`]);
  const problems: string[] = [];
  const list: ModelConfig[] = [];
  for (const [name, value] of entries) {
    if (!NAME.test(name)) problems.push(`${source}: model name "${name}" should be letters, digits, '.', '_' or '-' (up to 40)`);
    const { name: _n, ...rest } = (value ?? {}) as Record<string, unknown>;
    const r = entry.safeParse(rest);
    if (!r.success) {
      for (const i of r.error.issues) problems.push(`${source}: ${name}.${i.path.join('.') || '(entry)'}: ${i.message}`);
      continue;
    }
    list.push({ name, ...r.data, baseUrl: r.data.baseUrl.replace(/\/+$/, '') });
  }
  const lower = list.map((m) => m.name.toLowerCase());
  if (new Set(lower).size !== lower.length) problems.push(`${source}: model names must differ (case-insensitive)`);
  if (problems.length) throw new ConfigError(problems);
  return modelSet(list, source);
}

/** A ModelSet over a list (names looked up case-insensitively). */
export function modelSet(list: ModelConfig[], source: string | null): ModelSet {
  const byName = new Map(list.map((m) => [m.name.toLowerCase(), m]));
  return { list, source, get: (name) => byName.get(name.toLowerCase()) };
}

/** The models the process runs with: DIAGNOSIS_MODELS (JSON), else DIAGNOSIS_MODELS_FILE, else none. */
export function loadModels(config: Pick<Config, 'DIAGNOSIS_MODELS' | 'DIAGNOSIS_MODELS_FILE'>): ModelSet {
  if (config.DIAGNOSIS_MODELS) return parseModels(config.DIAGNOSIS_MODELS, 'DIAGNOSIS_MODELS');
  const file = config.DIAGNOSIS_MODELS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([
        `DIAGNOSIS_MODELS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err}); example content: ${MODELS_EXAMPLE}`,
      ]);
    }
    return parseModels(text, `DIAGNOSIS_MODELS_FILE ${file}`);
  }
  return modelSet([], null);
}
