import type { Caller, CommandContext } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import { getJob } from '../src/jobs/reads';
import type { Job } from '../src/jobs/types';

/** Whether a caller may see or act on a job: their own, or any for admins. */
export function mayAccess(caller: Caller, job: Job): boolean {
  return caller.role === 'admin' || job.requestedBy === caller.key;
}

/** Load a job the caller may access, or throw a UserError that says why not. */
export async function loadJobFor(ctx: CommandContext, id: number): Promise<Job> {
  const job = await getJob(ctx.deps.db, id);
  // Someone else's job reads as "not found" so ids of others' work are not revealed.
  if (!job || !mayAccess(ctx.caller, job)) throw new UserError('not_found', 'job.notFound', { id }, 'id');
  return job;
}
