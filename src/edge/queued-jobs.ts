import { runClaimed } from '../chat/inbound';
import type { Deps } from '../deps';
import { runHookCommand } from '../http/hooks';
import { defineJob, type JobDefinition } from '../jobs/types';
import { QUEUED_CHAT_KIND, QUEUED_COMMAND_KIND, QUEUED_MAX_ATTEMPTS, type QueuedChatPayload, type QueuedCommandPayload } from './kinds';

/** What a queued chat message's job reports. */
export type QueuedChatResult =
  | { ran: true; outcome: string; command?: string; jobId?: number }
  /** The message was handled already (the Node callback or an earlier attempt got there first). */
  | { ran: false; reason: 'duplicate' };

/**
 * Take the inbound row of a message the Worker queued: free when nobody has tried it yet (the Worker
 * writes it with `attempts` = 0) or, as for a redelivered callback (chat/inbound.ts `claimInbound`),
 * when its holder stopped renewing the lease. 'done' = handled already.
 */
async function claimQueued(deps: Deps, id: number): Promise<'claimed' | 'done' | 'busy'> {
  const rows = await deps.db.query<{ id: number }>(
    `update inbound_messages set claimed_at = now(), attempts = attempts + 1
      where id = $1 and outcome = 'received'
        and (attempts = 0 or claimed_at < now() - $2::double precision * interval '1 millisecond')
      returning id`,
    [id, deps.config.INBOUND_LEASE_MS],
  );
  if (rows.length > 0) return 'claimed';
  const [row] = await deps.db.query<{ outcome: string }>('select outcome from inbound_messages where id = $1', [id]);
  return row?.outcome === 'received' ? 'busy' : 'done';
}

/**
 * The job that answers a chat message which arrived at the edge exactly as a direct callback is
 * answered: the same dispatch, inbound-log row and replies (runClaimed), once even when DingTalk
 * also delivered it to a Node instance — the inbound row's claim decides who runs it.
 */
export function createQueuedChatJob(deps: () => Deps): JobDefinition<QueuedChatPayload, QueuedChatResult> {
  return defineJob<QueuedChatPayload, QueuedChatResult>({
    kind: QUEUED_CHAT_KIND,
    maxAttempts: QUEUED_MAX_ATTEMPTS,
    async run({ inboundId, message }, helpers) {
      const d = deps();
      const claim = await claimQueued(d, inboundId);
      if (claim === 'done') return { ran: false, reason: 'duplicate' };
      // Another process holds it: if it dies, its lease runs out and the retry takes over.
      if (claim === 'busy') throw new Error(`inbound message ${inboundId} is being handled elsewhere; retrying after its lease`);
      helpers.log.info({ inboundId, msgId: message.msgId }, 'dispatching a message queued at the edge');
      const result = await runClaimed(d, inboundId, message);
      return { ran: true, outcome: result.outcome, command: result.command, jobId: result.jobId };
    },
    describe: (r, t) => (r.ran ? t('edge.queuedDone', { outcome: r.outcome }) : t('edge.queuedDuplicate')),
  });
}

/** What a queued webhook command's job keeps: the answer the Node route would have sent. */
export interface QueuedCommandResult {
  status: number;
  body: unknown;
}

/** The job that runs a webhook command the Worker accepted (same dispatch and answer as the Node route). */
export function createQueuedCommandJob(deps: () => Deps): JobDefinition<QueuedCommandPayload, QueuedCommandResult> {
  return defineJob<QueuedCommandPayload, QueuedCommandResult>({
    kind: QUEUED_COMMAND_KIND,
    maxAttempts: QUEUED_MAX_ATTEMPTS,
    async run(call) {
      const out = await runHookCommand(deps(), call);
      return { status: out.status, body: out.body };
    },
    describe: (r, t) => t('edge.commandDone', { status: r.status }),
  });
}
