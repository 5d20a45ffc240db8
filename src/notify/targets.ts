import { UserError } from '../errors';
import type { ReplyTarget } from '../outbound';
import type { SecretBox } from './secret-box';

/** A delivery target as a task stores it: robot credentials encrypted, nothing secret in clear. */
export type DeliveryTarget =
  /** A DingTalk custom group robot: its webhook URL and signing secret, each encrypted by the SecretBox. */
  | { kind: 'robot'; label: string; webhookEnc: string; secretEnc?: string }
  /** The conversation the run was requested from (resolved when the notice is enqueued). */
  | { kind: 'requester' }
  /** A group the app robot was added to, reached through the robot OpenAPI. */
  | { kind: 'group'; openConversationId: string; label?: string }
  /** `attachUpToBytes` lowers SMTP_MAX_ATTACHMENT_BYTES for this target. */
  | { kind: 'email'; to: string[]; attachUpToBytes?: number };

/**
 * The same targets as the exports module's task schema spells them (`type`, a group's
 * `conversationId`); `normalizeTarget` turns them into DeliveryTargets.
 */
export type TaskTarget =
  | { type: 'requester' }
  | { type: 'group'; conversationId: string; label?: string }
  | { type: 'robot'; label: string; webhookEnc: string; secretEnc?: string }
  | { type: 'email'; to: string[]; attachUpToBytes?: number };

/** A DeliveryTarget from either spelling. */
export function normalizeTarget(t: DeliveryTarget | TaskTarget): DeliveryTarget {
  if ('kind' in t) return t;
  switch (t.type) {
    case 'requester':
      return { kind: 'requester' };
    case 'group':
      return t.label
        ? { kind: 'group', openConversationId: t.conversationId, label: t.label }
        : { kind: 'group', openConversationId: t.conversationId };
    case 'robot':
      return t.secretEnc
        ? { kind: 'robot', label: t.label, webhookEnc: t.webhookEnc, secretEnc: t.secretEnc }
        : { kind: 'robot', label: t.label, webhookEnc: t.webhookEnc };
    case 'email':
      return t.attachUpToBytes === undefined
        ? { kind: 'email', to: t.to }
        : { kind: 'email', to: t.to, attachUpToBytes: t.attachUpToBytes };
  }
}

/** A target ready to send to: `requester` has become the concrete conversation. */
export type ResolvedTarget = Exclude<DeliveryTarget, { kind: 'requester' }> | { kind: 'conversation'; target: ReplyTarget };

/** What a user (CLI, admin webhook) types to make a target; secrets in clear, sealed on the way in. */
export type DeliveryTargetInput =
  | { kind: 'robot'; webhook: string; secret?: string; label?: string }
  | { kind: 'requester' }
  | { kind: 'group'; openConversationId: string; label?: string }
  | { kind: 'email'; to: string | string[] };

/** The credentials inside a robot target's sealed value. */
export interface RobotCredentials {
  accessToken: string;
  secret?: string;
}

const OFFICIAL_OAPI_HOSTS = ['oapi.dingtalk.com', 'oapi.dingtalk.io'];
const MAX_EMAILS = 50;
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** A validated target before sealing: robot credentials still in clear (never stored like this). */
export type CheckedTarget =
  | Exclude<DeliveryTarget, { kind: 'robot' }>
  | ({ kind: 'robot'; label: string; webhook: string } & RobotCredentials);

/**
 * Validate a target and seal its secrets. Bad input is a UserError naming the field and what was
 * expected; nothing is stored. `oapiBase` is DINGTALK_OAPI_BASE (its host is accepted besides DingTalk's).
 * @example createDeliveryTarget({ kind: 'robot', webhook: 'https://oapi.dingtalk.com/robot/send?access_token=abc', secret: 'SEC…' }, { box, oapiBase })
 */
export function createDeliveryTarget(input: unknown, opts: { box: SecretBox; oapiBase: string }): DeliveryTarget {
  const t = checkDeliveryTarget(input, opts.oapiBase);
  if (t.kind !== 'robot') return t;
  const webhookEnc = opts.box.encrypt(t.webhook);
  return t.secret
    ? { kind: 'robot', label: t.label, webhookEnc, secretEnc: opts.box.encrypt(t.secret) }
    : { kind: 'robot', label: t.label, webhookEnc };
}

/** Validate a target (see createDeliveryTarget) without sealing: for one-off test sends. */
export function checkDeliveryTarget(input: unknown, oapiBase: string): CheckedTarget {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const kind = String(o.kind ?? o.type ?? '');
  if (kind === 'requester') return { kind: 'requester' };
  if (kind === 'robot') {
    const webhook = String(o.webhook ?? '').trim();
    const accessToken = parseRobotWebhook(webhook, oapiBase);
    const secret = o.secret === undefined || o.secret === '' ? undefined : String(o.secret).trim();
    if (secret !== undefined && !/^SEC\S{8,}$/.test(secret)) throw new UserError('bad_args', 'notify.target.badSecret', {}, 'secret');
    const label = typeof o.label === 'string' && o.label.trim() ? o.label.trim() : `…${accessToken.slice(-6)}`;
    return secret ? { kind: 'robot', label, webhook, accessToken, secret } : { kind: 'robot', label, webhook, accessToken };
  }
  if (kind === 'group') {
    const id = String(o.openConversationId ?? o.conversationId ?? '').trim();
    if (!/^cid[\w+/=-]{4,}$/.test(id)) throw new UserError('bad_args', 'notify.target.badGroup', { value: id }, 'openConversationId');
    const label = typeof o.label === 'string' && o.label.trim() ? o.label.trim() : undefined;
    return label ? { kind: 'group', openConversationId: id, label } : { kind: 'group', openConversationId: id };
  }
  if (kind === 'email') {
    const raw = Array.isArray(o.to) ? o.to.map(String) : String(o.to ?? '').split(/[,，;；\s]+/);
    const to = raw.map((s) => s.trim()).filter(Boolean);
    if (to.length === 0) throw new UserError('bad_args', 'notify.target.noEmail', {}, 'to');
    if (to.length > MAX_EMAILS) throw new UserError('bad_args', 'notify.target.tooManyEmails', { max: MAX_EMAILS, got: to.length }, 'to');
    const bad = to.find((a) => !EMAIL.test(a));
    if (bad) throw new UserError('bad_args', 'notify.target.badEmail', { value: bad }, 'to');
    const limit = o.attachUpToBytes === undefined ? undefined : Number(o.attachUpToBytes);
    return Number.isInteger(limit) && (limit as number) >= 0
      ? { kind: 'email', to: [...new Set(to)], attachUpToBytes: limit as number }
      : { kind: 'email', to: [...new Set(to)] };
  }
  throw new UserError('bad_args', 'notify.target.unknownKind', { kind }, 'kind');
}

/** The access token of a custom-robot webhook URL; a UserError when it is not one. */
export function parseRobotWebhook(value: string, oapiBase: string): string {
  const bad = () => new UserError('bad_args', 'notify.target.badWebhook', { base: oapiBase, value: redactToken(value) }, 'webhook');
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw bad();
  }
  const base = new URL(oapiBase);
  const hostOk = (url.protocol === 'https:' && OFFICIAL_OAPI_HOSTS.includes(url.hostname)) || url.origin === base.origin;
  const token = url.searchParams.get('access_token') ?? '';
  if (!hostOk || url.pathname !== '/robot/send' || !/^[0-9a-zA-Z_-]{8,}$/.test(token)) throw bad();
  return token;
}

/** Decrypt a robot target's credentials (only the sender does this, right before a request). */
export function openRobotCredentials(target: { webhookEnc: string; secretEnc?: string }, box: SecretBox): RobotCredentials {
  const webhook = new URL(box.decrypt(target.webhookEnc));
  const accessToken = webhook.searchParams.get('access_token') ?? '';
  if (accessToken === '') throw new Error('the stored robot webhook has no access_token');
  return target.secretEnc ? { accessToken, secret: box.decrypt(target.secretEnc) } : { accessToken };
}

/** Where a target goes, for lists and failure messages; never shows a secret. */
export function describeTarget(target: DeliveryTarget | ResolvedTarget): { channel: ResolvedTarget['kind'] | 'requester'; label: string } {
  switch (target.kind) {
    case 'robot':
      return { channel: 'robot', label: target.label };
    case 'group':
      return { channel: 'group', label: target.label ?? target.openConversationId };
    case 'email':
      return { channel: 'email', label: target.to.join(', ') };
    case 'conversation':
      return { channel: 'conversation', label: target.target.conversationId };
    case 'requester':
      return { channel: 'requester', label: '' };
  }
}

/** Resolve `requester` to the conversation the run came from; a UserError when there is none. */
export function resolveTarget(target: DeliveryTarget, requester: ReplyTarget | undefined): ResolvedTarget {
  if (target.kind !== 'requester') return target;
  if (!requester) throw new UserError('bad_args', 'notify.target.noRequester', {}, 'targets');
  return { kind: 'conversation', target: requester };
}

function redactToken(value: string): string {
  return value.replace(/(access_token=)([^&]{4})[^&]*/, '$1$2…');
}
