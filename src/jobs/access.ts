import { type Caller, hasRole } from '../lib/roles';
import type { Job } from './types';

/**
 * Who is looking at jobs: the caller, and the conversation they ask from (absent for webhooks and
 * the CLI).
 */
export interface Viewer {
  caller: Caller;
  /** The group or 1:1 conversation the question was typed in. */
  conversationId?: string;
}

/**
 * THE visibility rule for jobs (and everything shown about them: /job, /jobs, /push history, the
 * job API, replays). Written once; every reader uses it.
 *
 * - Admins see every job.
 * - Everyone sees the jobs they started.
 * - A job started in a group chat is also visible from that same group: its progress and result
 *   were already posted there for every member to read.
 *
 * Seeing is not acting: see `canAct`.
 */
export function canView(v: Viewer, job: Pick<Job, 'requestedBy' | 'replyTo'>): boolean {
  if (hasRole(v.caller.role, 'admin')) return true;
  if (job.requestedBy === v.caller.key) return true;
  const to = job.replyTo;
  return Boolean(v.conversationId && to?.conversationType === 'group' && to.conversationId === v.conversationId);
}

/** Cancelling, retrying or replaying a job: the person who started it, or an admin. */
export function canAct(caller: Caller, job: Pick<Job, 'requestedBy'>): boolean {
  return hasRole(caller.role, 'admin') || job.requestedBy === caller.key;
}

/**
 * The same rule as a filter for listing queries: `all` for admins, else the caller's own jobs plus
 * (from a group) the jobs started in that group. `listJobs` and `pushHistory` translate it to SQL.
 */
export type VisibilityFilter = { all: true } | { all: false; requestedBy: string; groupConversationId?: string };

export function visibilityFilter(v: Viewer): VisibilityFilter {
  if (hasRole(v.caller.role, 'admin')) return { all: true };
  return { all: false, requestedBy: v.caller.key, groupConversationId: v.conversationId };
}

/**
 * SQL condition for a VisibilityFilter over the `jobs` table aliased `alias`, with its parameters
 * appended to `params` (positional `$n`).
 */
export function visibilitySql(f: VisibilityFilter, params: unknown[], alias = 'jobs'): string {
  if (f.all) return 'true';
  params.push(f.requestedBy);
  const own = `${alias}.requested_by = $${params.length}`;
  if (!f.groupConversationId) return own;
  params.push(f.groupConversationId);
  return `(${own} or (${alias}.reply_to->>'conversationType' = 'group' and ${alias}.reply_to->>'conversationId' = $${params.length}))`;
}
