import type { Database } from '../db/client';
import { OVERLAP_POLICIES, type OverlapPolicy, type ScheduleState } from '../db/schema';
import { UserError } from '../errors';
import { cancelJob } from '../jobs/admin';
import type { AnyJobDefinition } from '../jobs/types';
import type { ReplyTarget } from '../outbound';
import { DEFAULT_ZONE } from './cron';
import { fireSchedule, runningKey } from './fire';
import { nextFireOf } from './next-fire';
import { insertSchedule, type Schedule, updateSchedule } from './store';
import { checkTiming, parseDuration } from './timing';

const NAME = /^[\p{L}\p{N}][\p{L}\p{N}_.-]{0,39}$/u;
/** Default misfire grace: 30 minutes, as the export scheduler this replaces had. */
export const DEFAULT_GRACE_SEC = 1800;

export interface ScheduleDeps {
  db: Database;
  jobDefinitions: readonly AnyJobDefinition[];
  now: () => number;
}

/** What `add` takes, as typed (checked here). */
export interface AddInput {
  name: string;
  type: string;
  when?: string;
  zone?: string;
  kind: string;
  payload: Record<string, unknown>;
  grace?: string | number;
  overlap?: string;
  replyTo?: ReplyTarget | null;
  owner: string;
}

/**
 * A delivery target kept on a schedule: a group is told without @-mentioning its creator every time.
 * The sessionWebhook stays while it is valid (about 90 minutes); later the relay uses the OpenAPI.
 */
export function scheduleTarget(t: ReplyTarget | undefined | null): ReplyTarget | null {
  if (!t) return null;
  const rest = { ...t };
  if (rest.conversationType === 'group') delete rest.staffId;
  return rest;
}

export function checkGrace(v: string | number | undefined): number {
  if (v === undefined) return DEFAULT_GRACE_SEC;
  const n = parseDuration(v);
  if (n === null || n > 7 * 86400) throw new UserError('bad_args', 'schedule.badGrace', { value: String(v) }, 'grace');
  return n;
}

export function checkOverlap(v: string | undefined): OverlapPolicy {
  if (v === undefined) return 'skip';
  if (!(OVERLAP_POLICIES as readonly string[]).includes(v)) throw new UserError('bad_args', 'schedule.badOverlap', { value: v }, 'overlap');
  return v as OverlapPolicy;
}

/** Check and store a new schedule; replies come from the caller. */
export async function addSchedule(deps: ScheduleDeps, input: AddInput): Promise<Schedule> {
  if (!NAME.test(input.name)) throw new UserError('bad_args', 'schedule.badName', { name: input.name }, 'name');
  const now = new Date(deps.now());
  const timing = checkTiming({ type: input.type, when: input.when, zone: input.zone ?? DEFAULT_ZONE }, now);
  if (!deps.jobDefinitions.some((d) => d.kind === input.kind)) {
    throw new UserError(
      'bad_args',
      'schedule.badKind',
      { kind: input.kind, kinds: deps.jobDefinitions.map((d) => d.kind).join(', ') },
      'kind',
    );
  }
  const created = await insertSchedule(deps.db, {
    name: input.name,
    kind: input.kind,
    payload: input.payload,
    ...timing,
    misfireGraceSec: checkGrace(input.grace),
    overlap: checkOverlap(input.overlap),
    replyTo: input.replyTo ?? null,
    owner: input.owner,
    nextFireAt: nextFireOf({ ...timing, state: 'active' }, now),
  });
  if (!created) throw new UserError('conflict', 'schedule.duplicate', { name: input.name }, 'name');
  return created;
}

/** The four state actions. */
export type StateAction = 'pause' | 'resume' | 'stop' | 'start';

const TRANSITIONS: Record<StateAction, { from: ScheduleState[]; to: ScheduleState }> = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  start: { from: ['stopped', 'paused'], to: 'active' },
  stop: { from: ['active', 'paused'], to: 'stopped' },
};

/**
 * pause/resume/start/stop. Switching on again does not catch up the fires of the time off; stop also
 * cancels the run in progress. Returns the schedule after, and the job it cancelled.
 */
export async function changeState(
  deps: ScheduleDeps,
  s: Schedule,
  action: StateAction,
  by: string,
): Promise<{ schedule: Schedule; cancelledJob?: number }> {
  const tr = TRANSITIONS[action];
  if (!tr.from.includes(s.state)) throw new UserError('conflict', 'schedule.badTransition', { name: s.name, state: s.state, action });
  const now = new Date(deps.now());
  const updated = await updateSchedule(deps.db, s.id, {
    state: tr.to,
    resetChecked: tr.to === 'active',
    nextFireAt: nextFireOf({ ...s, state: tr.to }, now),
  });
  if (!updated) throw new UserError('not_found', 'schedule.notFound', { name: s.name }, 'name');
  let cancelledJob: number | undefined;
  if (action === 'stop') {
    const [run] = await deps.db.query<{ id: number }>(`select id from jobs where active_key = $1`, [runningKey(s.id)]);
    if (run && (await cancelJob(deps.db, Number(run.id), by))) cancelledJob = Number(run.id);
    await deps.db.query(`update schedule_fires set outcome = 'skipped' where schedule_id = $1 and outcome = 'pending'`, [s.id]);
  }
  return { schedule: updated, cancelledJob };
}

/**
 * Run a schedule now (any type, any state), under its overlap policy. Typed in the conversation the
 * schedule reports to, the result goes through that conversation's fresh sessionWebhook.
 */
export function runNow(deps: ScheduleDeps, s: Schedule, by: string, from?: ReplyTarget) {
  const fresh = from && s.replyTo && from.conversationId === s.replyTo.conversationId ? { ...s, replyTo: scheduleTarget(from) } : s;
  return fireSchedule(deps.db, deps.jobDefinitions, fresh, new Date(deps.now()), 'manual', by);
}

/** The job of a schedule that is unfinished now, if any. */
export async function currentRun(db: Database, s: Schedule): Promise<number | null> {
  const [r] = await db.query<{ id: number }>(`select id from jobs where active_key = $1`, [runningKey(s.id)]);
  return r ? Number(r.id) : null;
}
