import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/** A message the bot sent through the fake robot OpenAPI. */
export interface OpenApiSend {
  path: string;
  token: string | undefined;
  body: { robotCode?: string; openConversationId?: string; userIds?: string[]; msgKey: string; msgParam: string };
  param: Record<string, string>;
}

/**
 * A local stand-in for DingTalk's servers, speaking their real protocols: the Stream gateway
 * (POST /v1.0/gateway/connections/open + the WebSocket it hands out), the OAuth token endpoint and
 * the robot OpenAPI sends. Tests point DINGTALK_API_BASE at it.
 */
export async function startFakeDingTalk() {
  const openRequests: Record<string, unknown>[] = [];
  const upstream: Record<string, any>[] = [];
  const sends: OpenApiSend[] = [];
  const sockets = new Set<WebSocket>();
  let seq = 0;
  let gatewayStatus = 200;
  let tokensIssued = 0;
  const revoked = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = (status: number, value: unknown) => {
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(value));
      };
      const url = req.url ?? '';
      if (req.method === 'POST' && url.endsWith('/v1.0/gateway/connections/open')) {
        openRequests.push(JSON.parse(body));
        if (gatewayStatus !== 200) return json(gatewayStatus, { code: 'unavailable', message: 'simulated' });
        const { port } = server.address() as AddressInfo;
        return json(200, { endpoint: `ws://127.0.0.1:${port}/connect`, ticket: `ticket-${++seq}` });
      }
      if (req.method === 'POST' && url === '/v1.0/oauth2/accessToken') {
        const b = JSON.parse(body) as { appKey?: string; appSecret?: string };
        if (!b.appKey || !b.appSecret) return json(400, { code: 'invalidParameter', message: 'appKey/appSecret' });
        tokensIssued += 1;
        // The first token is `token-for-<appKey>`, later ones (after a revocation) get a number.
        const accessToken = tokensIssued === 1 ? `token-for-${b.appKey}` : `token-for-${b.appKey}-${tokensIssued}`;
        return json(200, { accessToken, expireIn: 7200 });
      }
      if (req.method === 'POST' && (url === '/v1.0/robot/groupMessages/send' || url === '/v1.0/robot/oToMessages/batchSend')) {
        const token = req.headers['x-acs-dingtalk-access-token'] as string | undefined;
        if (!token || revoked.has(token)) return json(401, { code: 'InvalidAuthentication', message: 'token invalid' });
        const parsed = JSON.parse(body) as OpenApiSend['body'];
        sends.push({ path: url, token, body: parsed, param: JSON.parse(parsed.msgParam) });
        return json(
          200,
          url.endsWith('batchSend')
            ? { processQueryKey: 'k', invalidStaffIdList: [], flowControlledStaffIdList: [] }
            : { processQueryKey: 'k' },
        );
      }
      json(404, { code: 'notFound', message: url });
    });
  });
  const wss = new WebSocketServer({ server });
  let pings = 0;
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('ping', () => (pings += 1));
    ws.on('message', (m) => upstream.push(JSON.parse(m.toString())));
    ws.on('close', () => sockets.delete(ws));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    apiBase: `http://127.0.0.1:${port}`,
    openRequests,
    upstream,
    sends,
    get connections() {
      return sockets.size;
    },
    /** WebSocket pings received from clients (their liveness checks). */
    get pings() {
      return pings;
    },
    /** Access tokens handed out so far. */
    get tokensIssued() {
      return tokensIssued;
    },
    /** Make the OpenAPI refuse a token with 401, as DingTalk does once it expired or was reset. */
    revokeToken(token: string) {
      revoked.add(token);
    },
    setGatewayStatus(status: number) {
      gatewayStatus = status;
    },
    /** Send a downstream frame to every connected client. */
    push(frame: object) {
      for (const s of sockets) s.send(JSON.stringify({ specVersion: '1.0', ...frame }));
    },
    /** Send raw text (e.g. a non-JSON frame). */
    pushRaw(text: string) {
      for (const s of sockets) s.send(text);
    },
    /** Simulate network loss: kill every connection. */
    dropAll() {
      for (const s of sockets) s.terminate();
    },
    async close() {
      for (const s of sockets) s.terminate();
      await new Promise((r) => wss.close(r));
      await new Promise((r) => server.close(r));
    },
  };
}

export type FakeDingTalk = Awaited<ReturnType<typeof startFakeDingTalk>>;

/** A robot callback frame as the Stream gateway sends it (DINGTALK.md §2.3). */
export function robotFrame(messageId: string, content: string, over: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    type: 'CALLBACK',
    headers: {
      appId: 'app-1',
      connectionId: 'conn-1',
      contentType: 'application/json',
      messageId,
      time: String(now),
      topic: '/v1.0/im/bot/messages/get',
    },
    data: JSON.stringify({
      conversationId: 'cidTEST==',
      conversationType: '2',
      conversationTitle: 'ops',
      chatbotCorpId: 'dingcorp',
      chatbotUserId: '$:LWCP_v1:$bot',
      robotCode: 'dingrobot',
      msgId: `msg-${messageId}`,
      msgtype: 'text',
      text: { content },
      createAt: now,
      senderNick: 'Alice',
      senderStaffId: 'alice',
      senderId: '$:LWCP_v1:$alice',
      senderCorpId: 'dingcorp',
      isAdmin: false,
      isInAtList: true,
      atUsers: [{ dingtalkId: '$:LWCP_v1:$bot' }],
      sessionWebhookExpiredTime: now + 90 * 60_000,
      ...over,
    }),
  };
}

/** Poll until `fn` returns a truthy value (no fixed sleeps in tests). */
export async function waitUntil<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
