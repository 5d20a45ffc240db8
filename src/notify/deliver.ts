import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import type { Notifier } from '../outbound';
import { EmailError, type EmailSender } from './email';
import type { StoredNotice } from './outbox';
import { robotKey, robotMarkdownBody } from './robot';
import { postToRobot } from './robot-client';
import { blockRobot, clearRobotStrikes, settleRobotSlot, takeRobotSlot } from './robot-window';
import type { SecretBox } from './secret-box';
import { openRobotCredentials, type ResolvedTarget } from './targets';

/** What became of one try: delivered, wait (not the message's fault, not counted), retry, or give up. */
export type Attempt =
  | { kind: 'sent' }
  | { kind: 'wait'; ms: number; reason: string }
  | { kind: 'retry'; error: string }
  | { kind: 'fail'; error: string; hint: 'robotConfig' | 'robotGone' | 'tooLong' | 'smtp' | 'retryLater' };

export interface DeliverContext {
  db: Database;
  box: SecretBox;
  fetch: typeof fetch;
  now: () => number;
  notifier: Notifier;
  email: EmailSender;
  oapiBase: string;
  robotCode: string;
  robotLimit: number;
  robotWindowMs: number;
  robotMarginMs: number;
  throttleBaseMs: number;
  throttleMaxMs: number;
  requestTimeoutMs: number;
  signal: AbortSignal;
}

/** One try at delivering one outbox row. Never throws: every outcome is an Attempt. */
export async function deliverOnce(
  ctx: DeliverContext,
  row: { id: number; target: ResolvedTarget; message: StoredNotice },
): Promise<Attempt> {
  const { target, message } = row;
  try {
    switch (target.kind) {
      case 'robot':
        return await deliverToRobot(ctx, row.id, target, message);
      case 'conversation':
        await ctx.notifier.send(target.target, { type: 'markdown', title: message.title, text: message.markdown });
        return { kind: 'sent' };
      case 'group':
        await ctx.notifier.send(
          { conversationId: target.openConversationId, conversationType: 'group', robotCode: ctx.robotCode },
          { type: 'markdown', title: message.title, text: message.markdown },
        );
        return { kind: 'sent' };
      case 'email':
        await ctx.email.send({
          to: target.to,
          subject: message.title,
          text: message.text,
          html: message.html,
          messageId: `<notice-${row.id}@chatops-bot>`,
          attachment: message.attachment,
          attachUpToBytes: target.attachUpToBytes,
        });
        return { kind: 'sent' };
    }
  } catch (err) {
    if (err instanceof EmailError)
      return err.temporary ? { kind: 'retry', error: err.message } : { kind: 'fail', error: err.message, hint: 'smtp' };
    return { kind: 'retry', error: errorMessage(err) };
  }
}

async function deliverToRobot(
  ctx: DeliverContext,
  id: number,
  target: { webhookEnc: string; secretEnc?: string },
  message: StoredNotice,
): Promise<Attempt> {
  let creds: ReturnType<typeof openRobotCredentials>;
  try {
    creds = openRobotCredentials(target, ctx.box);
  } catch (err) {
    return { kind: 'fail', error: `the robot's stored credentials cannot be opened (${errorMessage(err)})`, hint: 'robotConfig' };
  }
  const key = robotKey(creds);
  // A margin over the window: our stamp is taken before the request, DingTalk's when it arrives.
  const slot = await takeRobotSlot(ctx.db, key, ctx.robotLimit, ctx.robotWindowMs + ctx.robotMarginMs);
  if (!slot.granted) return { kind: 'wait', ms: slot.waitMs, reason: 'rate window full' };
  // The same msgUuid on every try: DingTalk posts a retried message once.
  const body = robotMarkdownBody(message.title, message.markdown, `notice-${id}`);
  const verdict = await postToRobot(
    { fetch: ctx.fetch, oapiBase: ctx.oapiBase, now: ctx.now, signal: ctx.signal, timeoutMs: ctx.requestTimeoutMs },
    creds,
    body,
  ).finally(() => settleRobotSlot(ctx.db, key, slot.stamp));
  if (verdict.kind === 'unreachable') return { kind: 'retry', error: verdict.message };
  if (verdict.kind === 'http') {
    return verdict.status >= 500 || verdict.status === 429
      ? { kind: 'retry', error: verdict.message }
      : { kind: 'fail', error: verdict.message, hint: 'robotConfig' };
  }
  if (verdict.kind === 'ok') {
    await clearRobotStrikes(ctx.db, key);
    return { kind: 'sent' };
  }
  if (verdict.kind === 'throttled') {
    const ms = await blockRobot(ctx.db, key, ctx.throttleBaseMs, ctx.throttleMaxMs);
    return { kind: 'wait', ms, reason: verdict.message };
  }
  if (verdict.kind === 'retry') return { kind: 'retry', error: verdict.message };
  return { kind: 'fail', error: verdict.message, hint: verdict.hint };
}
