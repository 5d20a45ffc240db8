import type { ChatMessage } from '../chat/message';
import type { Deps } from '../deps';
import { submitJob } from '../jobs/submit';
import { QUEUED_CHAT_KIND, type QueuedChatPayload } from './kinds';

/** What the edge did with a chat message. */
export type Queued = { duplicate: true } | { duplicate: false; inboundId: number; jobId: number };

/**
 * Record a chat message in the inbound log under (robotCode, msgId) — the same row and the same
 * dedupe as the Node callback — with a fresh lease but no attempt yet (`attempts` = 0), and queue the
 * job that a Node instance runs to dispatch it. The lease keeps a redelivery to a Node instance from
 * running it meanwhile; if the job never claims it, the sweep (chat/inbound.ts) does after two lease
 * periods, as for a message whose instance died. A message seen before is a duplicate, unless it is ours
 * and nobody has claimed it yet: then the job is queued again (its dedupe key makes that a no-op
 * while the first is pending), so a Worker that died between the two statements loses nothing when
 * DingTalk retries. The claim on the row, not the job, decides who runs the message (Node callback,
 * sweep or this job): once only.
 */
export async function queueChatMessage(deps: Pick<Deps, 'db' | 'jobDefinitions'>, m: ChatMessage): Promise<Queued> {
  const sender = m.senderStaffId ?? m.senderId;
  const rows = await deps.db.query<{ id: number }>(
    `insert into inbound_messages as m (source, robot_code, msg_id, text, sender_id, sender_staff_id, sender_nick,
        conversation_id, conversation_type, message, claimed_at, attempts)
     values ('edge', $1, $2, $3, $4, $5, $6, $7, $8, $9, now(), 0)
     on conflict (robot_code, msg_id) do update set message = m.message
       where m.source = 'edge' and m.outcome = 'received' and m.attempts = 0
     returning id`,
    [
      m.robotCode,
      m.msgId,
      m.text,
      sender,
      m.senderStaffId ?? null,
      m.senderNick ?? null,
      m.conversationId,
      m.conversationType,
      JSON.stringify(m),
    ],
  );
  const row = rows[0];
  if (!row) return { duplicate: true };
  const inboundId = Number(row.id);
  const payload: QueuedChatPayload = { inboundId, message: m };
  const { job } = await submitJob(deps.db, deps.jobDefinitions, {
    kind: QUEUED_CHAT_KIND,
    payload,
    dedupeKey: `edge-chat:${inboundId}`,
    requestedBy: sender,
  });
  return { duplicate: false, inboundId, jobId: job.id };
}
