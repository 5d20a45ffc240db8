import type { ModelConfig } from './models';

/** What one chat completion gave back. */
export interface ChatAnswer {
  text: string;
  /** The model the response names (vendors answer with a dated version, e.g. deepseek-chat-0324). */
  modelVersion: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
}

/**
 * A call that did not produce an answer. `kind` keeps "the remote said no" (http, with status and
 * body) apart from "could not reach it" (network, timeout); retries depend on it.
 */
export class ModelCallError extends Error {
  constructor(
    readonly kind: 'http' | 'network' | 'timeout' | 'bad_response',
    message: string,
    readonly status?: number,
    /** From Retry-After / retry-after-ms, when the server said how long to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ModelCallError';
  }

  /** 429, 5xx, 408, network errors and timeouts are worth another try; other answers are not. */
  get retryable(): boolean {
    if (this.kind === 'network' || this.kind === 'timeout') return true;
    if (this.kind === 'http') return this.status === 429 || this.status === 408 || (this.status ?? 0) >= 500;
    return false;
  }
}

/**
 * How long a server asked us to wait: `retry-after-ms` (OpenAI), else `Retry-After` in seconds or
 * as an HTTP date. Pure; undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: { get(name: string): string | null }, nowMs: number): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const v = headers.get('retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * One POST to `<baseUrl>/chat/completions` (no retries: the scheduler retries, so every request
 * counts against the model's rate limit). Aborts on `signal` (rethrowing its reason) or after the
 * model's timeout (a ModelCallError of kind timeout).
 */
export async function callChatCompletion(
  fetchFn: typeof fetch,
  model: ModelConfig,
  question: string,
  signal: AbortSignal,
  nowMs: () => number = Date.now,
): Promise<ChatAnswer> {
  const timeout = AbortSignal.timeout(model.timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  const messages = [...(model.systemPrompt ? [{ role: 'system', content: model.systemPrompt }] : []), { role: 'user', content: question }];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (model.apiKey) headers.authorization = `Bearer ${model.apiKey}`;
  const body = JSON.stringify({
    model: model.model,
    messages,
    stream: false,
    ...(model.temperature !== undefined ? { temperature: model.temperature } : {}),
    ...(model.maxTokens !== undefined ? { max_tokens: model.maxTokens } : {}),
  });
  const aborted = (err: unknown): never => {
    if (signal.aborted) throw signal.reason;
    if (timeout.aborted) throw new ModelCallError('timeout', `${model.name}: no answer within ${model.timeoutMs} ms`);
    throw new ModelCallError('network', `${model.name}: ${(err as Error)?.message ?? String(err)}`);
  };
  let res: Response;
  let raw: string;
  try {
    res = await fetchFn(`${model.baseUrl}/chat/completions`, { method: 'POST', headers, body, signal: both });
    raw = await res.text();
  } catch (err) {
    return aborted(err);
  }
  if (!res.ok) {
    throw new ModelCallError(
      'http',
      `${model.name} answered ${res.status}: ${raw.slice(0, 300)}`,
      res.status,
      parseRetryAfter(res.headers, nowMs()),
    );
  }
  let json: {
    model?: unknown;
    choices?: { message?: { content?: unknown } }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ModelCallError('bad_response', `${model.name}: the answer is not JSON: ${raw.slice(0, 200)}`, res.status);
  }
  const content = json.choices?.[0]?.message?.content;
  if (typeof content !== 'string') {
    throw new ModelCallError('bad_response', `${model.name}: no choices[0].message.content in the answer`, res.status);
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    text: content,
    modelVersion: typeof json.model === 'string' ? json.model : null,
    promptTokens: num(json.usage?.prompt_tokens),
    completionTokens: num(json.usage?.completion_tokens),
  };
}
