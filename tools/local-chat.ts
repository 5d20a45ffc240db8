import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { JOB_HEADER } from '../src/chat/callback-route';
import { computeSign } from '../src/chat/sign';
import { catalogs } from '../src/i18n';

/** A message the bot posted to our local sessionWebhook. */
export interface ReceivedReply {
  body: Record<string, unknown>;
  /** Text content (text.content, markdown text, actionCard text) for printing and assertions. */
  text: string;
  at: number;
}

export interface LocalChatOptions {
  /** Base URL of the running bot, e.g. http://127.0.0.1:3000. */
  url: string;
  /** The key callbacks are signed with (app secret or DATA_DIR/callback-secret). */
  secret: string;
  staffId?: string;
  nick?: string;
  conversationId?: string;
  conversationType?: 'single' | 'group';
  robotCode?: string;
}

/** What `send` can vary, to test signatures and redelivery. */
export interface SendOptions {
  msgId?: string;
  timestamp?: string;
  sign?: string | null;
  /** Lifetime of the sessionWebhook we announce (DingTalk: 90 minutes). */
  webhookTtlMs?: number;
  staffId?: string;
}

export interface LocalChat {
  readonly webhookUrl: string;
  readonly replies: ReceivedReply[];
  /** Post a correctly signed robot callback, as DingTalk would; `jobId` = the job the command started, if any. */
  send(text: string, opts?: SendOptions): Promise<{ status: number; msgId: string; body: string; jobId?: number }>;
  /** Wait until `predicate` holds for some reply received after index `from`. */
  waitFor(predicate: (r: ReceivedReply) => boolean, timeoutMs?: number, from?: number): Promise<ReceivedReply>;
  /** Make the sessionWebhook answer with this errcode (0 = ok) from now on. */
  setErrcode(code: number): void;
  close(): Promise<void>;
}

const FINAL_KEYS = ['job.final.succeeded', 'job.final.failed', 'job.final.cancelled'] as const;
// The titles of the message that closes a job, in every locale: `任务 #12（订单推送）已完成`, `Job #12 (…) failed`.
const FINAL_TITLES = Object.values(catalogs).flatMap((c) =>
  FINAL_KEYS.map(
    (k) =>
      new RegExp(
        `^${c[k]
          .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
          .replace('{id}', '(\\d+)')
          .replace('{kind}', '.*?')}$`,
      ),
  ),
);

/** The job a reply closes (its final message), or undefined. */
export function finalJobId(r: ReceivedReply): number | undefined {
  const title = (r.body as { markdown?: { title?: string } }).markdown?.title;
  if (!title) return undefined;
  for (const re of FINAL_TITLES) {
    const m = re.exec(title);
    if (m?.[1]) return Number(m[1]);
  }
  return undefined;
}

export function replyText(body: Record<string, unknown>): string {
  const b = body as { text?: { content?: string }; markdown?: { text?: string }; actionCard?: { text?: string } };
  return b.text?.content ?? b.markdown?.text ?? b.actionCard?.text ?? JSON.stringify(body);
}

/**
 * A DingTalk client for local use: signs callbacks to the bot and receives its replies on a
 * sessionWebhook served on 127.0.0.1. `npm run chat` and the end-to-end tests both use it.
 */
export async function createLocalChat(opts: LocalChatOptions): Promise<LocalChat> {
  const replies: ReceivedReply[] = [];
  const waiters = new Set<() => void>();
  let errcode = 0;
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      try {
        const body = JSON.parse(data) as Record<string, unknown>;
        if (errcode === 0) replies.push({ body, text: replyText(body), at: Date.now() });
      } catch {
        /* not JSON: ignore */
      }
      // DingTalk's sessionWebhook answers 200 with an errcode; 0 tells the bot the message arrived.
      res.setHeader('content-type', 'application/json;charset=UTF-8');
      res.end(JSON.stringify(errcode === 0 ? { errcode: 0, errmsg: 'ok' } : { errcode, errmsg: 'simulated failure' }));
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const webhookUrl = `http://127.0.0.1:${port}/robot/sendBySession?session=${randomUUID()}`;
  const conversationType = opts.conversationType ?? 'group';

  return {
    webhookUrl,
    replies,
    async send(text, s = {}) {
      const now = Date.now();
      const msgId = s.msgId ?? `msg${randomUUID()}`;
      const timestamp = s.timestamp ?? String(now);
      const staffId = s.staffId ?? opts.staffId ?? 'local-user';
      const payload = {
        msgtype: 'text',
        text: { content: conversationType === 'group' ? ` ${text}` : text },
        msgId,
        createAt: now,
        conversationType: conversationType === 'group' ? '2' : '1',
        conversationId: opts.conversationId ?? 'cid-local-chat',
        conversationTitle: conversationType === 'group' ? 'local chat' : undefined,
        senderId: `$:LWCP_v1:$${staffId}`,
        senderNick: opts.nick ?? staffId,
        senderStaffId: staffId,
        chatbotUserId: '$:LWCP_v1:$bot',
        robotCode: opts.robotCode ?? 'local',
        isInAtList: true,
        sessionWebhook: webhookUrl,
        sessionWebhookExpiredTime: now + (s.webhookTtlMs ?? 90 * 60_000),
      };
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', timestamp };
      const sign = s.sign === undefined ? computeSign(timestamp, opts.secret) : s.sign;
      if (sign !== null) headers.sign = sign;
      const res = await fetch(`${opts.url}/dingtalk/callback`, { method: 'POST', headers, body: JSON.stringify(payload) });
      const job = Number(res.headers.get(JOB_HEADER));
      return { status: res.status, msgId, body: await res.text(), jobId: Number.isSafeInteger(job) && job > 0 ? job : undefined };
    },
    waitFor(predicate, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = replies.slice(from).find(predicate);
          if (hit) {
            cleanup();
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching reply within ${timeoutMs} ms; got: ${JSON.stringify(replies.slice(from).map((r) => r.text))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    setErrcode(code) {
      errcode = code;
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
