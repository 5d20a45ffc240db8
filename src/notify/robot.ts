import { createHash, createHmac } from 'node:crypto';
import type { RobotCredentials } from './targets';

/**
 * The custom-robot `sign` query value: Base64(HMAC-SHA256(key=secret, msg=`timestamp\nsecret`)),
 * URL-encoded (DINGTALK.md 3.2; vectors in 7.2). Pure.
 */
export function robotSign(secret: string, timestampMs: number): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64'));
}

/** The URL to POST a message to: access token, plus timestamp and sign when the robot signs. */
export function robotSendUrl(oapiBase: string, creds: RobotCredentials, nowMs: number): string {
  const base = `${oapiBase.replace(/\/+$/, '')}/robot/send?access_token=${encodeURIComponent(creds.accessToken)}`;
  return creds.secret ? `${base}&timestamp=${nowMs}&sign=${robotSign(creds.secret, nowMs)}` : base;
}

/** A stable, non-reversible key for one robot (rate window rows, logs): never the token itself. */
export function robotKey(creds: RobotCredentials): string {
  return createHash('sha256').update(creds.accessToken).digest('hex').slice(0, 32);
}

/** The markdown message body, with `msgUuid` so a retried delivery is posted once. */
export function robotMarkdownBody(title: string, markdown: string, msgUuid: string): Record<string, unknown> {
  return { msgtype: 'markdown', markdown: { title, text: markdown }, msgUuid };
}

/** How to treat an answer from the robot endpoint. */
export type RobotVerdict =
  | { kind: 'ok' }
  | { kind: 'throttled'; code: number; message: string }
  | { kind: 'retry'; code: number; message: string }
  | { kind: 'fail'; code: number; message: string; hint: 'robotConfig' | 'robotGone' | 'tooLong' | 'retryLater' };

/**
 * Classify an `{errcode, errmsg}` answer (DingTalk answers errors with HTTP 200; DINGTALK.md 3.5).
 * 130101/410100 are the rate limit; -1 is "busy"; configuration problems and gone robots are final.
 */
export function classifyRobotAnswer(errcode: number, errmsg: string): RobotVerdict {
  const message = `${errcode} ${errmsg}`.trim();
  if (errcode === 0) return { kind: 'ok' };
  if (errcode === 130101 || errcode === 410100) return { kind: 'throttled', code: errcode, message };
  if (errcode === -1) return { kind: 'retry', code: errcode, message };
  if (errcode === 460101 || errcode === 101002) return { kind: 'fail', code: errcode, message, hint: 'tooLong' };
  if ([300001, 300005, 400101, 400102, 400106, 400013].includes(errcode))
    return { kind: 'fail', code: errcode, message, hint: 'robotGone' };
  if (errcode === 310000) {
    // "invalid timestamp" is a clock problem worth another try; keywords/sign/IP are configuration.
    if (/timestamp/i.test(errmsg)) return { kind: 'retry', code: errcode, message };
    return { kind: 'fail', code: errcode, message, hint: 'robotConfig' };
  }
  return { kind: 'fail', code: errcode, message, hint: 'robotConfig' };
}
