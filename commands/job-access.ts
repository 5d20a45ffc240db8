import type { CommandContext } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import { canAct, canView, type Viewer } from '../src/jobs/access';
import { getJob } from '../src/jobs/reads';
import type { Job } from '../src/jobs/types';

/** Who is asking, for the visibility rule (src/jobs/access.ts): the caller and the conversation they ask from. */
export function viewerOf(ctx: CommandContext): Viewer {
  return { caller: ctx.caller, conversationId: ctx.conversation?.id };
}

/**
 * Load a job the caller may see (`view`) or act on (`act`: cancel, retry), or throw a UserError
 * that says why not.
 */
export async function loadJobFor(ctx: CommandContext, id: number, need: 'view' | 'act' = 'view'): Promise<Job> {
  const job = await getJob(ctx.deps.db, id);
  // A job the caller may not see reads as "not found" so ids of others' work are not revealed.
  if (!job || !canView(viewerOf(ctx), job)) throw new UserError('not_found', 'job.notFound', { id }, 'id');
  if (need === 'act' && !canAct(ctx.caller, job)) throw new UserError('forbidden', 'job.notYours', { id }, 'id');
  return job;
}
