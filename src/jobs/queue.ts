import { idArray } from '../db/batch';
import type { Database } from '../db/client';
import type { JobStatus } from '../db/schema';
import type { ReplyTarget } from '../outbound';
import { type JobErrorInfo, parseJobErrorInfo } from './job-error';
import type { EnqueueOptions, Job } from './types';

/** The LISTEN/NOTIFY channels of the queue. */
export const CHANNEL_NEW = 'chatops_jobs';
export const CHANNEL_CANCEL = 'chatops_job_cancel';

type Row = Record<string, unknown>;

export const toDate = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

/** Map a `jobs` row (snake_case) to a Job. */
export function toJob(r: Row): Job {
  return {
    id: Number(r.id),
    kind: String(r.kind),
    status: r.status as JobStatus,
    priority: Number(r.priority),
    payload: r.payload,
    result: r.result ?? null,
    error: (r.error as string | null) ?? null,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAt: toDate(r.run_at) as Date,
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseExpiresAt: toDate(r.lease_expires_at),
    progress: Number(r.progress),
    progressText: (r.progress_text as string | null) ?? null,
    softTimeoutMs: r.soft_timeout_ms === null || r.soft_timeout_ms === undefined ? null : Number(r.soft_timeout_ms),
    hardTimeoutMs: r.hard_timeout_ms === null || r.hard_timeout_ms === undefined ? null : Number(r.hard_timeout_ms),
    cancelRequested: Boolean(r.cancel_requested),
    dedupeKey: (r.dedupe_key as string | null) ?? null,
    scheduleId: r.schedule_id === null || r.schedule_id === undefined ? null : Number(r.schedule_id),
    requestedBy: (r.requested_by as string | null) ?? null,
    replyTo: (r.reply_to as ReplyTarget | null) ?? null,
    createdAt: toDate(r.created_at) as Date,
    startedAt: toDate(r.started_at),
    attemptStartedAt: toDate(r.attempt_started_at),
    finishedAt: toDate(r.finished_at),
    runMs: Number(r.run_ms ?? 0),
    errorInfo: parseJobErrorInfo(r.error_info),
    notifiedAt: toDate(r.notified_at),
  };
}

const INSERT_COLUMNS = `kind, payload, priority, run_at, max_attempts, dedupe_key, active_key, soft_timeout_ms, hard_timeout_ms, requested_by, reply_to, schedule_id`;
const FROM_JSON = `jsonb_to_recordset($1::jsonb) as x(kind text, payload jsonb, priority int, run_at timestamptz, max_attempts int,
  dedupe_key text, soft_timeout_ms int, hard_timeout_ms int, requested_by text, reply_to jsonb, schedule_id bigint)`;

function toRecord(o: EnqueueOptions) {
  return {
    kind: o.kind,
    payload: o.payload ?? {},
    priority: o.priority ?? 0,
    run_at: (o.runAt ?? null) && o.runAt?.toISOString(),
    max_attempts: o.maxAttempts ?? 3,
    dedupe_key: o.dedupeKey ?? null,
    soft_timeout_ms: o.softTimeoutMs ?? null,
    hard_timeout_ms: o.hardTimeoutMs ?? null,
    requested_by: o.requestedBy ?? null,
    reply_to: o.replyTo ?? null,
    schedule_id: o.scheduleId ?? null,
  };
}

/**
 * Put a job on the queue. With a dedupe key that an unfinished job already holds, nothing is
 * inserted and that job is returned (`created: false`).
 */
export async function enqueue(db: Database, opts: EnqueueOptions): Promise<{ job: Job; created: boolean }> {
  for (let i = 0; i < 5; i++) {
    const rows = await db.query<Row>(
      `insert into jobs (${INSERT_COLUMNS})
       select kind, payload, priority, coalesce(run_at, now()), max_attempts, dedupe_key, dedupe_key, soft_timeout_ms, hard_timeout_ms,
              requested_by, reply_to, schedule_id from ${FROM_JSON}
       on conflict (active_key) where active_key is not null do nothing
       returning *`,
      [JSON.stringify([toRecord(opts)])],
    );
    if (rows[0]) return { job: toJob(rows[0]), created: true };
    const existing = await db.query<Row>(`select * from jobs where active_key = $1`, [opts.dedupeKey]);
    if (existing[0]) return { job: toJob(existing[0]), created: false };
    // The holder finished between the two statements: try again.
  }
  throw new Error(`could not enqueue ${opts.kind} with dedupe key ${opts.dedupeKey}`);
}

/** Insert many jobs in one statement (dedupe conflicts are skipped). Returns how many were inserted. */
export async function enqueueMany(db: Database, list: EnqueueOptions[]): Promise<number> {
  if (list.length === 0) return 0;
  const rows = await db.query<{ n: number }>(
    `with ins as (
       insert into jobs (${INSERT_COLUMNS})
       select kind, payload, priority, coalesce(run_at, now()), max_attempts, dedupe_key, dedupe_key, soft_timeout_ms, hard_timeout_ms,
              requested_by, reply_to, schedule_id from ${FROM_JSON}
       on conflict (active_key) where active_key is not null do nothing
       returning 1)
     select count(*)::int as n from ins`,
    [JSON.stringify(list.map(toRecord))],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * THE "job finished" state change, as SET assignments that apply where the SQL condition `when`
 * holds (columns on the right read through `a`, the table alias with its dot): the finish time,
 * the dedupe key given back, and the final chat message due now when the job came from chat.
 * Every statement that ends a job (complete, fail, cancel, reap) uses it.
 */
export function finishedSet(when: string, a = ''): string {
  return `finished_at = case when ${when} then now() else ${a}finished_at end,
          active_key = case when ${when} then null else ${a}active_key end,
          notify_next_at = case when (${when}) and ${a}reply_to is not null then now() else ${a}notify_next_at end`;
}

/**
 * SET assignment for an attempt that ended (succeeded, failed or its worker lost): its run time is
 * added to run_ms, so a retried job's duration excludes the idle time between attempts.
 */
const attemptEnded = (until = 'now()', a = '') =>
  `run_ms = ${a}run_ms + coalesce(greatest(0, (extract(epoch from ${until} - ${a}attempt_started_at) * 1000)::bigint), 0)`;

// Completing leaves ready/active_key(null)/notify_next_at(null) unchanged for keyless, chat-less
// jobs, so it is a HOT update. Claiming takes rows off the queue index (ready = false).
const COMPLETE_CTE = `done as (
  update jobs set status = 'succeeded', result = $2::jsonb -> (id::text), progress = 100, error = null, error_info = null,
         progress_text = coalesce($7::jsonb ->> (id::text), progress_text),
         lease_owner = null, lease_expires_at = null, ${attemptEnded()},
         ${finishedSet('true')}
   where id = any($1::bigint[]) and status = 'running' and lease_owner = $3
   returning id)`;
const claimCte = (range: string, order: string) => `claimed as (
  update jobs set ready = false, status = 'running', attempts = attempts + 1, lease_owner = $3,
         lease_expires_at = now() + make_interval(secs => $6::float8 / 1000),
         started_at = coalesce(started_at, now()), attempt_started_at = now()
   where id = any(array(
     select id from jobs
      where ready and kind = $4 and run_at <= now() ${range}
      order by ${order}
      limit $5
      for update skip locked))
   returning id, kind, status, priority, payload, attempts, max_attempts, run_at, lease_owner, lease_expires_at,
             soft_timeout_ms, hard_timeout_ms, cancel_requested, dedupe_key, schedule_id, requested_by, reply_to,
             created_at, started_at, attempt_started_at)`;
// One row: the completed ids, the claimed jobs (JSON, only the columns a handler needs) and
// the cursor after them (the last claimed key in queue order, run_at printed by Postgres).
const exchangeSql = (claim: string) => `with ${COMPLETE_CTE}, ${claim}
  select (select coalesce(array_agg(id), '{}') from done) as done_ids,
         (select coalesce(json_agg(c), '[]') from claimed c) as claimed,
         (select array[priority::text, run_at::text, id::text] from claimed
           order by priority, run_at desc, id desc limit 1) as next_cursor`;
// From the head of the queue index, in its exact order.
const EXCHANGE_SQL = exchangeSql(claimCte('', 'priority desc nulls last, run_at, id'));
// From a cursor within one priority: claimed rows leave dead entries at the head of the index
// until vacuum, and a long backlog would otherwise walk them again on every claim.
const EXCHANGE_AFTER_SQL = exchangeSql(
  claimCte('and priority = $8 and (run_at, id) > ($9::timestamptz, $10::bigint)', 'priority desc nulls last, run_at, id'),
);

/** Where the last claim of a kind ended, to resume the next claim there (same priority only). */
export interface ClaimCursor {
  priority: number;
  /** run_at as Postgres printed it (microseconds intact). */
  runAt: string;
  id: number;
}

/**
 * One round trip of the job loop: record finished handlers as succeeded and claim up to `n` ready
 * jobs of `kind` (FOR UPDATE SKIP LOCKED, highest priority first, then oldest) under a lease.
 * With `after`, the claim starts past that cursor (see EXCHANGE_AFTER_SQL).
 * Returns the ids whose lease was still ours, the claimed jobs, and the cursor after them.
 */
export async function exchangeJobs(
  db: Database,
  owner: string,
  done: { id: number; result: unknown; progressText?: string }[],
  claim: { kind: string; n: number; after?: ClaimCursor } | null,
  leaseMs: number,
): Promise<{ completed: number[]; claimed: Job[]; cursor: ClaimCursor | null }> {
  // Only non-null results travel; a missing key reads as null.
  const results: Record<string, unknown> = {};
  const texts: Record<string, string> = {};
  for (const d of done) {
    if (d.result !== undefined && d.result !== null) results[d.id] = d.result;
    if (d.progressText) texts[d.id] = d.progressText;
  }
  const params: unknown[] = [
    idArray(done.map((d) => d.id)),
    JSON.stringify(results),
    owner,
    claim?.kind ?? '',
    claim?.n ?? 0,
    leaseMs,
    JSON.stringify(texts),
  ];
  const after = claim?.after;
  if (after) params.push(after.priority, after.runAt, after.id);
  const [first] = await db.query<{ done_ids: unknown; claimed: Row[] | string; next_cursor: string[] | null }>(
    after ? EXCHANGE_AFTER_SQL : EXCHANGE_SQL,
    params,
  );
  const raw = typeof first?.claimed === 'string' ? (JSON.parse(first.claimed) as Row[]) : (first?.claimed ?? []);
  const claimed = raw.map(toJob);
  claimed.sort((x, y) => y.priority - x.priority || x.runAt.getTime() - y.runAt.getTime() || x.id - y.id);
  const c = first?.next_cursor;
  return {
    completed: parseIdArray(first?.done_ids),
    claimed,
    cursor: c && c.length === 3 ? { priority: Number(c[0]), runAt: String(c[1]), id: Number(c[2]) } : null,
  };
}

function parseIdArray(v: unknown): number[] {
  if (Array.isArray(v)) return v.map(Number);
  if (typeof v === 'string') return v.replace(/[{}]/g, '').split(',').filter(Boolean).map(Number);
  return [];
}

/**
 * End an attempt that failed: requeue it at `retryAt`, or (retryAt null) fail it for good — or
 * cancel it when a cancel was requested. Returns the resulting status, or null if the lease was lost.
 */
export async function failJob(
  db: Database,
  owner: string,
  id: number,
  error: string,
  retryAt: Date | null,
  cancelled = false,
  info: JobErrorInfo | null = null,
  progressText: string | null = null,
  eventData: unknown = null,
): Promise<JobStatus | null> {
  // The job's `cancelled` / `attempt_failed` event is written by the same statement, so no reader
  // sees the new status without it.
  const rows = await db.query<{ status: JobStatus }>(
    `with u as (
       update jobs set
         status = case when $5 then 'cancelled' when $4::timestamptz is null then 'failed' else 'queued' end,
         ready = not $5 and $4::timestamptz is not null,
         run_at = coalesce($4::timestamptz, run_at),
         error = $3, error_info = $6::jsonb, progress_text = coalesce($7, progress_text), lease_owner = null, lease_expires_at = null, ${attemptEnded()},
         ${finishedSet('$5 or $4::timestamptz is null')}
       where id = $1 and status = 'running' and lease_owner = $2
       returning id, status),
     e as (
       insert into job_events (job_id, type, message, data)
       select id, case when $5 then 'cancelled' else 'attempt_failed' end, $3, $8::jsonb from u)
     select status from u`,
    [
      id,
      owner,
      error.slice(0, 4000),
      retryAt ? retryAt.toISOString() : null,
      cancelled,
      info ? JSON.stringify(info) : null,
      progressText,
      eventData === null ? null : JSON.stringify(eventData),
    ],
  );
  if (rows[0]?.status === 'queued') await notifyNew(db, id);
  return rows[0]?.status ?? null;
}

/** Give jobs back to the queue without counting the attempt (shutdown, prefetched but not started). */
export async function releaseJobs(db: Database, owner: string, ids: number[], reason: string): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<{ id: number }>(
    `with r as (
       update jobs set status = 'queued', ready = true, attempts = greatest(attempts - 1, 0), lease_owner = null,
              lease_expires_at = null, run_at = now()
        where id = any($1::bigint[]) and status = 'running' and lease_owner = $2
        returning id),
     e as (insert into job_events (job_id, type, message) select id, 'released', $3 from r)
     select id from r`,
    [idArray(ids), owner, reason],
  );
  if (rows.length > 0) await db.query(`select pg_notify($1, 'released')`, [CHANNEL_NEW]);
  return rows.map((r) => Number(r.id));
}

/** Extend the lease of every job `owner` holds; says which of them have a cancel request. */
export async function heartbeat(db: Database, owner: string, leaseMs: number): Promise<{ id: number; cancelRequested: boolean }[]> {
  const rows = await db.query<{ id: number; cancel_requested: boolean }>(
    `update jobs set lease_expires_at = now() + make_interval(secs => $2::float8 / 1000)
      where status = 'running' and lease_owner = $1
      returning id, cancel_requested`,
    [owner, leaseMs],
  );
  return rows.map((r) => ({ id: Number(r.id), cancelRequested: Boolean(r.cancel_requested) }));
}

/**
 * Take back jobs whose lease expired (their worker died): requeue them, or fail them when no
 * attempt is left, or cancel them when that was asked. Any instance may run this.
 */
export async function reapExpired(db: Database): Promise<{ id: number; kind: string; status: JobStatus }[]> {
  const rows = await db.query<{ id: number; kind: string; status: JobStatus; owner: string }>(
    `with x as (
       select id, lease_owner from jobs where status = 'running' and lease_expires_at < now()
       for update skip locked),
     r as (
       update jobs j set
          status = case when j.cancel_requested then 'cancelled' when j.attempts >= j.max_attempts then 'failed' else 'queued' end,
          ready = not (j.cancel_requested or j.attempts >= j.max_attempts),
          error = 'worker lost: lease expired (the process running it stopped or hung)',
          error_info = '{"code":"worker_lost"}'::jsonb,
          -- The attempt ran at most until its lease expired.
          ${attemptEnded('j.lease_expires_at', 'j.')},
          ${finishedSet('j.cancel_requested or j.attempts >= j.max_attempts', 'j.')},
          lease_owner = null, lease_expires_at = null, run_at = now()
         from x where j.id = x.id
       returning j.id, j.kind, j.status, x.lease_owner as owner),
     e as (insert into job_events (job_id, type, message, data)
           select id, 'lease_expired', 'worker lost: lease expired', jsonb_build_object('owner', owner, 'now', status) from r)
     select id, kind, status, owner from r`,
  );
  if (rows.some((r) => r.status === 'queued')) await db.query(`select pg_notify($1, 'reaped')`, [CHANNEL_NEW]);
  return rows.map((r) => ({ id: Number(r.id), kind: r.kind, status: r.status }));
}

/** Wake runners for this job's kind (NOTIFY). */
export async function notifyNew(db: Database, id: number) {
  await db.query(`select pg_notify($1, kind) from jobs where id = $2`, [CHANNEL_NEW, id]);
}

/** Store a job's progress (for /job and the API). */
export async function saveProgress(db: Database, id: number, pct: number, text: string | undefined): Promise<void> {
  await db.query(`update jobs set progress = $2, progress_text = $3 where id = $1 and status = 'running'`, [
    id,
    Math.max(0, Math.min(100, Math.round(pct))),
    text?.slice(0, 500) ?? null,
  ]);
}

/** Append to a job's event log. */
export async function addEvent(db: Database, jobId: number, type: string, message?: string, data?: unknown): Promise<void> {
  await db.query(`insert into job_events (job_id, type, message, data) values ($1, $2, $3, $4::jsonb)`, [
    jobId,
    type,
    message ?? null,
    data === undefined ? null : JSON.stringify(data),
  ]);
}
