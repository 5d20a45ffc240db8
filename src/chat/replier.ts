import type { Logger } from 'pino';
import { errorMessage, RemoteError } from '../errors';
import type { PostFn } from '../lib/pooled-post';
import type { Notifier, OutMessage, ReplyTarget } from '../outbound';
import type { AccessTokens } from './access-token';
import { fitReply, isAllowedReplyUrl } from './reply-policy';

/** Raised when no route could deliver a message; says what was tried. */
export class DeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface ReplierOptions {
  apiBase: string;
  robotCode?: string;
  /** Present when app credentials are configured: enables the OpenAPI fallback. */
  tokens?: AccessTokens;
  fetch: typeof fetch;
  /** Sends the POSTs instead of `fetch` when given: the server passes pooled keep-alive connections (src/lib/pooled-post.ts). */
  post?: PostFn;
  now: () => number;
  log: Logger;
  /** Per-request timeout for outbound calls. */
  timeoutMs?: number;
  /** Hosts besides DingTalk's own that sessionWebhook replies may go to (DINGTALK_REPLY_HOSTS). */
  replyHosts?: readonly string[];
  /** Allow loopback sessionWebhooks: only while the generated local callback secret is in use. */
  allowLoopback?: boolean;
  /** The note ending a reply cut to DingTalk's size limit (from the catalog). */
  truncatedNote?: (cut: number) => string;
}

// A sessionWebhook this close to expiry is not worth trying.
const EXPIRY_MARGIN_MS = 10_000;

/** The message body the sessionWebhook (and custom robot webhook) accepts. */
export function toWebhookBody(m: OutMessage): Record<string, unknown> {
  if (m.type === 'text') return { msgtype: 'text', text: { content: m.text } };
  if (m.type === 'markdown') return { msgtype: 'markdown', markdown: { title: m.title, text: m.text } };
  if (m.buttons.length === 1) {
    const [b] = m.buttons;
    return {
      msgtype: 'actionCard',
      actionCard: { title: m.title, text: m.text, singleTitle: b?.title, singleURL: b?.url },
    };
  }
  return {
    msgtype: 'actionCard',
    actionCard: {
      title: m.title,
      text: m.text,
      btnOrientation: '0',
      btns: m.buttons.map((b) => ({ title: b.title, actionURL: b.url })),
    },
  };
}

/** The msgKey/msgParam pair of the robot OpenAPI for a message. */
export function toOpenApiMessage(m: OutMessage): { msgKey: string; msgParam: string } {
  if (m.type === 'text') return { msgKey: 'sampleText', msgParam: JSON.stringify({ content: m.text }) };
  if (m.type === 'actionCard' && m.buttons.length === 1) {
    const [b] = m.buttons;
    return {
      msgKey: 'sampleActionCard',
      msgParam: JSON.stringify({ title: m.title, text: m.text, singleTitle: b?.title, singleURL: b?.url }),
    };
  }
  // Several buttons: the sampleActionCard2..5 key names are not reliable, so links go into markdown.
  const links = m.type === 'actionCard' ? m.buttons.map((b) => `\n\n[${b.title}](${b.url})`).join('') : '';
  return { msgKey: 'sampleMarkdown', msgParam: JSON.stringify({ title: m.title, text: m.text + links }) };
}

/**
 * The Notifier for DingTalk: the conversation's sessionWebhook while it is valid, else (or when
 * it fails) the robot OpenAPI — groupMessages/send for groups, oToMessages/batchSend for 1:1.
 */
export function createReplier(opts: ReplierOptions): Notifier {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const policy = { extraHosts: opts.replyHosts ?? [], allowLoopback: opts.allowLoopback ?? false };
  const note = opts.truncatedNote ?? ((cut: number) => `… (${cut} characters cut)`);

  async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
    if (opts.post) return opts.post(url, JSON.stringify(body), { 'content-type': 'application/json', ...headers }, timeoutMs);
    const res = await opts.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, ok: res.ok, text };
  }

  async function viaSessionWebhook(target: ReplyTarget, m: OutMessage): Promise<void> {
    const r = await post(target.sessionWebhook as string, toWebhookBody(m));
    let errcode = 0;
    try {
      errcode = Number((JSON.parse(r.text) as { errcode?: number }).errcode ?? 0);
    } catch {
      /* an empty or non-JSON 2xx body counts as accepted */
    }
    // oapi answers HTTP 200 even for errors: the errcode decides.
    if (!r.ok || errcode !== 0) throw new RemoteError('sessionWebhook', r.status, r.text);
  }

  async function viaOpenApi(target: ReplyTarget, m: OutMessage, retried = false): Promise<void> {
    const tokens = opts.tokens as AccessTokens;
    const robotCode = target.robotCode || opts.robotCode;
    const { msgKey, msgParam } = toOpenApiMessage(m);
    let path: string;
    let body: Record<string, unknown>;
    if (target.conversationType === 'group') {
      path = '/v1.0/robot/groupMessages/send';
      body = { robotCode, openConversationId: target.conversationId, msgKey, msgParam };
    } else {
      if (!target.staffId) throw new DeliveryError('1:1 reply needs the sender staff id, which DingTalk did not send');
      path = '/v1.0/robot/oToMessages/batchSend';
      body = { robotCode, userIds: [target.staffId], msgKey, msgParam };
    }
    const token = await tokens.get();
    const r = await post(`${opts.apiBase}${path}`, body, { 'x-acs-dingtalk-access-token': token });
    if (r.status === 401 && !retried) {
      tokens.invalidate();
      return viaOpenApi(target, m, true);
    }
    if (!r.ok) throw new RemoteError(`OpenAPI ${path}`, r.status, r.text);
    if (path.endsWith('batchSend')) {
      const parsed = JSON.parse(r.text || '{}') as { invalidStaffIdList?: string[]; flowControlledStaffIdList?: string[] };
      if (parsed.invalidStaffIdList?.length || parsed.flowControlledStaffIdList?.length) {
        throw new RemoteError(`OpenAPI ${path}`, r.status, r.text);
      }
    }
  }

  return {
    async send(target, original) {
      const message = fitReply(original, note);
      const problems: string[] = [];
      const webhookValid = target.sessionWebhook && (target.sessionWebhookExpiresAt ?? 0) > opts.now() + EXPIRY_MARGIN_MS;
      if (target.sessionWebhook && !isAllowedReplyUrl(target.sessionWebhook, policy)) {
        // Not DingTalk's: the callback body is unsigned, so this may be someone steering our POSTs.
        opts.log.warn(
          { host: safeHost(target.sessionWebhook), conversationId: target.conversationId },
          'refused a sessionWebhook that is not a DingTalk host',
        );
        problems.push('sessionWebhook refused: not a DingTalk host (DINGTALK_REPLY_HOSTS)');
      } else if (webhookValid) {
        try {
          return await viaSessionWebhook(target, message);
        } catch (err) {
          problems.push(`sessionWebhook: ${errorMessage(err)}`);
          opts.log.warn({ err: errorMessage(err) }, 'sessionWebhook send failed, trying the OpenAPI');
        }
      } else if (target.sessionWebhook) {
        problems.push('sessionWebhook expired');
      }
      if (!opts.tokens) {
        problems.push('OpenAPI fallback needs DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET');
        throw new DeliveryError(`cannot deliver to ${target.conversationId}: ${problems.join('; ')}`);
      }
      try {
        await viaOpenApi(target, message);
      } catch (err) {
        problems.push(`OpenAPI: ${errorMessage(err)}`);
        throw new DeliveryError(`cannot deliver to ${target.conversationId}: ${problems.join('; ')}`);
      }
    },
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host.slice(0, 100);
  } catch {
    return '(not a URL)';
  }
}
