import type { Database } from '../db/client';
import type { JobStatus } from '../db/schema';
import { CHANNEL_CANCEL, finishedSet, notifyNew, toJob } from './queue';
import type { Job } from './types';

/**
 * Cancel a job: a queued one at once; a running one gets cancel_requested and its runner is told
 * (NOTIFY) to abort it. Returns the status after the request, or null if there is no such job.
 */
export async function cancelJob(db: Database, id: number, by: string): Promise<{ before: JobStatus; after: JobStatus } | null> {
  const rows = await db.query<{ before: JobStatus; after: JobStatus }>(
    `with old as (select id, status from jobs where id = $1 for update),
     upd as (
       update jobs j set
          status = case when old.status = 'queued' then 'cancelled' else j.status end,
          ready = case when old.status = 'queued' then false else j.ready end,
          ${finishedSet(`old.status = 'queued'`, 'j.')},
          cancel_requested = case when old.status in ('queued', 'running') then true else j.cancel_requested end
         from old where j.id = old.id
       returning j.id, old.status as before, j.status as after),
     -- The request's event in the same statement: it is there before a runner can act on the flag.
     ev as (
       insert into job_events (job_id, type, data)
       select id, 'cancel_requested', jsonb_build_object('by', $2::text, 'status', before) from upd
        where before in ('queued', 'running'))
     select before, after from upd`,
    [id, by],
  );
  const r = rows[0];
  if (!r) return null;
  if (r.before === 'running') await db.query(`select pg_notify($1, $2)`, [CHANNEL_CANCEL, String(id)]);
  return r;
}

/**
 * Run a failed or cancelled job again as a new attempt of the same record (one more attempt is
 * allowed beyond those used). Returns the job, or the status that prevents the retry.
 */
export async function retryJob(
  db: Database,
  id: number,
  by: string,
): Promise<{ ok: true; job: Job } | { ok: false; status: JobStatus | null }> {
  const rows = await db.query<Record<string, unknown>>(
    `with u as (update jobs j set status = 'queued', ready = true, run_at = now(), cancel_requested = false, error = null, error_info = null, finished_at = null,
            max_attempts = greatest(max_attempts, attempts + 1), progress = 0, progress_text = null,
            notified_at = null, notify_attempts = 0, notify_next_at = null,
            -- Take the dedupe key back only if no newer job holds it.
            active_key = case when j.dedupe_key is not null
                               and not exists (select 1 from jobs o where o.active_key = j.dedupe_key) then j.dedupe_key end
      where id = $1 and status in ('failed', 'cancelled')
      returning *),
     ev as (insert into job_events (job_id, type, data) select id, 'retried', jsonb_build_object('by', $2::text) from u)
     select * from u`,
    [id, by],
  );
  if (!rows[0]) {
    const cur = await db.query<{ status: JobStatus }>(`select status from jobs where id = $1`, [id]);
    return { ok: false, status: cur[0]?.status ?? null };
  }
  await notifyNew(db, id);
  return { ok: true, job: toJob(rows[0]) };
}
