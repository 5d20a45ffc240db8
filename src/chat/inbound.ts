import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { inboundMessages } from '../db/schema';
import type { Deps } from '../deps';
import { errorMessage } from '../errors';
import type { ReplyTarget } from '../outbound';
import type { Caller } from './define-command';
import { type DispatchRequest, type DispatchResult, dispatch } from './dispatch';
import type { ChatMessage } from './message';
import { roleForStaff } from './roles';

/** The reply target of a chat message: its conversation and temporary sessionWebhook. */
export function replyTargetOf(m: ChatMessage): ReplyTarget {
  return {
    conversationId: m.conversationId,
    conversationType: m.conversationType,
    robotCode: m.robotCode,
    sessionWebhook: m.sessionWebhook,
    sessionWebhookExpiresAt: m.sessionWebhookExpiresAt,
    staffId: m.senderStaffId,
  };
}

/** The caller behind a chat message, with the role the configuration gives them. */
export function callerOf(deps: Pick<Deps, 'config'>, m: ChatMessage): Caller {
  return {
    key: m.senderStaffId ?? m.senderId,
    staffId: m.senderStaffId,
    nick: m.senderNick,
    role: roleForStaff(deps.config, m.senderStaffId),
  };
}

/**
 * Record a command in the inbound log before running it. Returns the row id, or null when this
 * (robotCode, msgId) was seen before — a redelivery that must not run again.
 */
export async function recordInbound(
  deps: Pick<Deps, 'db'>,
  row: {
    source: string;
    robotCode: string;
    msgId: string;
    text: string;
    caller: Caller;
    conversationId?: string;
    conversationType?: string;
  },
): Promise<number | null> {
  const inserted = await deps.db.orm
    .insert(inboundMessages)
    .values({
      source: row.source,
      robotCode: row.robotCode,
      msgId: row.msgId,
      text: row.text,
      senderId: row.caller.key,
      senderStaffId: row.caller.staffId,
      senderNick: row.caller.nick,
      conversationId: row.conversationId,
      conversationType: row.conversationType,
    })
    .onConflictDoNothing()
    .returning({ id: inboundMessages.id });
  return inserted[0]?.id ?? null;
}

/** Store what became of a recorded command (parsed name, args, outcome, job). */
export async function finishInbound(deps: Pick<Deps, 'db'>, id: number, result: DispatchResult): Promise<void> {
  await deps.db.orm
    .update(inboundMessages)
    .set({
      command: result.command,
      args: result.args ?? null,
      outcome: result.outcome,
      error: result.error?.slice(0, 2000),
      jobId: result.jobId,
      finishedAt: new Date(),
    })
    .where(eq(inboundMessages.id, id));
}

/** Log, dispatch and answer a message that reached us; shared by the HTTP callback and Stream mode. */
export async function handleChatMessage(
  deps: Deps,
  m: ChatMessage,
): Promise<{ duplicate: true } | { duplicate: false; result: DispatchResult }> {
  const caller = callerOf(deps, m);
  const id = await recordInbound(deps, {
    source: m.source,
    robotCode: m.robotCode,
    msgId: m.msgId,
    text: m.text,
    caller,
    conversationId: m.conversationId,
    conversationType: m.conversationType,
  });
  if (id === null) {
    deps.log.info({ msgId: m.msgId, source: m.source }, 'duplicate message ignored');
    return { duplicate: true };
  }
  const target = replyTargetOf(m);
  let result: DispatchResult;
  if (m.msgType !== 'text' && m.text === '') {
    result = {
      outcome: 'bad_args',
      error: `unsupported msgtype ${m.msgType}`,
      messages: [{ type: 'text', text: deps.t('dispatch.textOnly') }],
    };
  } else {
    const req: DispatchRequest = {
      source: m.source,
      caller,
      text: m.text,
      conversation: { id: m.conversationId, type: m.conversationType, title: m.conversationTitle },
      replyTarget: target,
    };
    result = await dispatch(deps, req);
  }
  await finishInbound(deps, id, result).catch((err) =>
    deps.log.error({ err: errorMessage(err), inboundId: id }, 'could not record the outcome'),
  );
  // Replies go out in order, after the callback has been answered.
  const deliver = async () => {
    for (const message of result.messages) {
      await deps.notifier.send(target, message).catch((err) => {
        deps.log.error({ err: errorMessage(err), inboundId: id }, 'reply could not be delivered');
      });
    }
  };
  deps.background.track(deliver());
  return { duplicate: false, result };
}

/**
 * Log a call from another system in the inbound log. An `Idempotency-Key` (scoped to the caller)
 * makes a retried call a duplicate: null is returned and the call must not run again.
 */
export function recordWebhookCall(
  deps: Pick<Deps, 'db'>,
  caller: Caller,
  idempotencyKey: string | undefined,
  text: string,
): Promise<number | null> {
  return recordInbound(deps, {
    source: 'webhook',
    robotCode: 'webhook',
    msgId: idempotencyKey ? `${caller.key}:${idempotencyKey}` : randomUUID(),
    text: text.slice(0, 4000),
    caller,
  });
}
