import http from 'node:http';
import https from 'node:https';

/** What a POST came back with. */
export interface PostResult {
  status: number;
  ok: boolean;
  text: string;
}

/** POST a body to a URL; rejects on a network error or after `timeoutMs`. */
export type PostFn = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<PostResult>;

/**
 * A POST over pooled keep-alive connections (one node:http Agent per protocol, which keeps a pool
 * per host:port). fetch() costs several times the CPU of a plain http.request per call (Request,
 * Response, web streams, AbortSignal), which at hundreds of replies a second is most of the reply
 * sender's cost. Idle sockets are kept `idleMs` and then closed.
 */
export function createPooledPost(opts: { maxSocketsPerHost?: number; idleMs?: number } = {}): PostFn & { close(): void } {
  const agentOpts = { keepAlive: true, maxSockets: opts.maxSocketsPerHost ?? 64, maxFreeSockets: 64, timeout: opts.idleMs ?? 30_000 };
  const agents = { 'http:': new http.Agent(agentOpts), 'https:': new https.Agent(agentOpts) };
  const post = ((url, body, headers, timeoutMs) =>
    new Promise<PostResult>((resolve, reject) => {
      const u = new URL(url);
      const agent = agents[u.protocol as keyof typeof agents];
      if (!agent) {
        reject(new Error(`cannot POST to a ${u.protocol} URL`));
        return;
      }
      const mod = u.protocol === 'https:' ? https : http;
      const payload = Buffer.from(body);
      const req = mod.request(u, { method: 'POST', agent, headers: { ...headers, 'content-length': String(payload.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`POST timed out after ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(payload);
    })) as PostFn & { close(): void };
  post.close = () => {
    agents['http:'].destroy();
    agents['https:'].destroy();
  };
  return post;
}
