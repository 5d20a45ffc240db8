import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the fake custom robot accepted (posted to its group). */
export interface RobotPost {
  token: string;
  msgUuid?: string;
  body: { msgtype: string; markdown?: { title: string; text: string }; text?: { content: string } };
  at: number;
}

/** What the next request gets instead of normal handling. */
export type RobotFault = 'drop-after-accept' | { errcode: number; errmsg: string };

/**
 * A local stand-in for DingTalk's custom-robot endpoint (`POST /robot/send?access_token=…`), speaking
 * its protocol (DINGTALK.md 3): checks the token, the signature and its timestamp on every request,
 * answers errors with HTTP 200 + errcode, enforces `limit` messages per `windowMs` per robot with
 * 130101, and posts a message with an already seen msgUuid only once. Also receives sessionWebhook
 * posts (`/robot/sendBySession`), for the requester's conversation.
 */
export async function startFakeRobot(opts: { robots: Record<string, string | undefined>; limit?: number; windowMs?: number }) {
  const limit = opts.limit ?? 20;
  const windowMs = opts.windowMs ?? 60_000;
  const posts: RobotPost[] = [];
  const sessionPosts: { session: string; body: Record<string, any> }[] = [];
  const answers: { token: string; errcode: number; at: number }[] = [];
  const faults: RobotFault[] = [];
  const accepted = new Map<string, number[]>();
  const seenUuids = new Set<string>();
  let requests = 0;

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const answer = (errcode: number, errmsg: string, token = '') => {
        answers.push({ token, errcode, at: Date.now() });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ errcode, errmsg }));
      };
      if (req.method === 'POST' && url.pathname === '/robot/sendBySession') {
        sessionPosts.push({ session: url.searchParams.get('session') ?? '', body: JSON.parse(raw) });
        return answer(0, 'ok');
      }
      if (req.method !== 'POST') return answer(43002, '需要POST请求');
      if (url.pathname !== '/robot/send') {
        res.statusCode = 404;
        return res.end('not found');
      }
      requests++;
      const token = url.searchParams.get('access_token') ?? '';
      if (!token) return answer(40035, '缺少参数 access_token');
      if (!(token in opts.robots)) return answer(300001, 'token is not exist', token);
      if (!String(req.headers['content-type']).startsWith('application/json')) return answer(43004, 'Content-Type', token);
      const secret = opts.robots[token];
      if (secret) {
        const ts = url.searchParams.get('timestamp') ?? '';
        const sign = url.searchParams.get('sign') ?? ''; // URLSearchParams has decoded %2B etc.
        if (!/^\d+$/.test(ts) || Math.abs(Date.now() - Number(ts)) > 3_600_000) return answer(310000, 'invalid timestamp', token);
        const want = createHmac('sha256', secret).update(`${ts}\n${secret}`, 'utf8').digest('base64');
        if (sign !== want) return answer(310000, 'sign not match', token);
      }
      const fault = faults.shift();
      if (fault && fault !== 'drop-after-accept') return answer(fault.errcode, fault.errmsg, token);
      let body: RobotPost['body'] & { msgUuid?: string };
      try {
        body = JSON.parse(raw);
      } catch {
        return answer(400105, '不支持的消息类型', token);
      }
      if (body.msgUuid && seenUuids.has(`${token}/${body.msgUuid}`)) return answer(0, 'ok', token);
      const now = Date.now();
      const recent = (accepted.get(token) ?? []).filter((t) => t > now - windowMs);
      if (recent.length >= limit) {
        accepted.set(token, recent);
        return answer(130101, 'send too fast, exceed 20 times per minute', token);
      }
      accepted.set(token, [...recent, now]);
      if (body.msgUuid) seenUuids.add(`${token}/${body.msgUuid}`);
      posts.push({ token, msgUuid: body.msgUuid, body, at: now });
      if (fault === 'drop-after-accept') {
        // The message is posted but the answer is lost: the caller must retry without a duplicate.
        req.socket.destroy();
        return;
      }
      answer(0, 'ok', token);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    posts,
    sessionPosts,
    answers,
    get requests() {
      return requests;
    },
    webhook: (token: string) => `${base}/robot/send?access_token=${token}`,
    sessionWebhook: (session: string) => `${base}/robot/sendBySession?session=${session}`,
    /** The next requests get these answers (in order) instead of normal handling. */
    fail(...f: RobotFault[]) {
      faults.push(...f);
    },
    /** Largest number of accepted messages of one robot inside any window. */
    maxInWindow(token: string): number {
      const ts = posts.filter((p) => p.token === token).map((p) => p.at);
      let best = 0;
      for (const [i, t] of ts.entries()) best = Math.max(best, ts.slice(i).filter((x) => x < t + windowMs).length);
      return best;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export type FakeRobot = Awaited<ReturnType<typeof startFakeRobot>>;
