import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake server received, as it saw it. */
export interface RecordedCall {
  model: string;
  question: string;
  authorization: string | undefined;
  stream: boolean;
  startedAt: number;
  endedAt?: number;
  status?: number;
  /** The client went away before the answer was sent (cancel, timeout). */
  aborted: boolean;
}

/** What the server does with one request. */
export interface Behaviour {
  delayMs?: number;
  /** Answer with this status instead of 200 (e.g. 429, 500). */
  status?: number;
  /** Retry-After header value (seconds) with an error status. */
  retryAfter?: string;
  text?: string;
  /** The model version named in the response (default: `<model>-2026-01`). */
  modelVersion?: string;
  /** Never answer (until the client gives up). */
  hang?: boolean;
}

export type Script = (req: { model: string; question: string; nth: number }) => Behaviour;

/**
 * A local OpenAI-compatible chat-completion server for tests and the benchmark: real HTTP, the
 * real JSON (and SSE streaming) shapes, every call recorded, and per-request behaviour scripted —
 * slow answers, 429 with Retry-After, 500, or no answer at all.
 */
export async function startFakeOpenAI(script: Script = () => ({})) {
  const calls: RecordedCall[] = [];
  const seen = new Map<string, number>();
  let current = script;
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } }));
        return;
      }
      let json: { model?: string; messages?: { role: string; content: string }[]; stream?: boolean };
      try {
        json = JSON.parse(body);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'body is not JSON', type: 'invalid_request_error' } }));
        return;
      }
      const model = String(json.model ?? '');
      const question = [...(json.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';
      const key = `${model}\u0000${question}`;
      const nth = (seen.get(key) ?? 0) + 1;
      seen.set(key, nth);
      const call: RecordedCall = {
        model,
        question,
        authorization: req.headers.authorization,
        stream: Boolean(json.stream),
        startedAt: performance.now(),
        aborted: false,
      };
      calls.push(call);
      open.add(res);
      const b = current({ model, question, nth });
      const finish = (status: number) => {
        call.endedAt = performance.now();
        call.status = status;
        open.delete(res);
      };
      let timer: NodeJS.Timeout | undefined;
      res.on('close', () => {
        if (call.endedAt === undefined) {
          call.aborted = true;
          call.endedAt = performance.now();
          clearTimeout(timer);
          open.delete(res);
        }
      });
      if (b.hang) return;
      timer = setTimeout(() => {
        if (res.destroyed) return;
        const status = b.status ?? 200;
        if (status !== 200) {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (b.retryAfter !== undefined) headers['retry-after'] = b.retryAfter;
          finish(status);
          res.writeHead(status, headers);
          res.end(
            JSON.stringify({ error: { message: `simulated ${status}`, type: status === 429 ? 'rate_limit_exceeded' : 'server_error' } }),
          );
          return;
        }
        const text = b.text ?? `${model} answer to ${question}`;
        const version = b.modelVersion ?? `${model}-2026-01`;
        const id = `chatcmpl-${calls.length}`;
        const created = Math.floor(Date.now() / 1000);
        finish(200);
        if (json.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          const chunk = (delta: object, finish_reason: string | null) =>
            `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: version, choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
          res.write(chunk({ role: 'assistant', content: '' }, null));
          for (const part of text.match(/.{1,8}/gsu) ?? []) res.write(chunk({ content: part }, null));
          res.write(chunk({}, 'stop'));
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id,
            object: 'chat.completion',
            created,
            model: version,
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage: { prompt_tokens: question.length, completion_tokens: text.length, total_tokens: question.length + text.length },
          }),
        );
      }, b.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    setScript(s: Script) {
      current = s;
    },
    /** Most calls of `model` open at the same moment, from the recorded intervals. */
    maxConcurrent(model: string): number {
      const ev = calls
        .filter((c) => c.model === model)
        .flatMap((c) => [
          [c.startedAt, 1],
          [c.endedAt ?? Number.POSITIVE_INFINITY, -1],
        ])
        .sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
      let cur = 0;
      let max = 0;
      for (const [, d] of ev) {
        cur += d as number;
        max = Math.max(max, cur);
      }
      return max;
    },
    /** Most calls of `model` that started within any `windowMs`, from the record. */
    maxStartsInWindow(model: string, windowMs: number): number {
      const starts = calls
        .filter((c) => c.model === model)
        .map((c) => c.startedAt)
        .sort((a, b) => a - b);
      let max = 0;
      let lo = 0;
      for (let hi = 0; hi < starts.length; hi++) {
        // A little slack below the window: the server sees a request a moment after the client sent it.
        while ((starts[hi] as number) - (starts[lo] as number) >= windowMs - 5) lo++;
        max = Math.max(max, hi - lo + 1);
      }
      return max;
    },
    openCount: () => open.size,
    async close() {
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export type FakeOpenAI = Awaited<ReturnType<typeof startFakeOpenAI>>;

/** A DIAGNOSIS_MODELS value pointing every named model at the fake server (model id = name). */
export function fakeModels(url: string, names: string[], over: Record<string, unknown> = {}): string {
  return JSON.stringify(Object.fromEntries(names.map((n) => [n, { baseUrl: url, model: n, apiKey: `key-${n}`, ...over }])));
}
