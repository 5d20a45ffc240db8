import { createBatcher, idArray, perDatabase } from '../db/batch';
import type { Database } from '../db/client';
import type { Deps } from '../deps';
import { errorMessage } from '../errors';
import { clipText } from '../lib/clip';
import type { ReplyTarget } from '../outbound';
import type { Caller } from './define-command';
import { type DispatchRequest, type DispatchResult, dispatch, type Outcome } from './dispatch';
import type { ChatMessage } from './message';
import { COUNT_UPSERT, type Counted, rateLimitKey, serialCounts } from './rate-limit';
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

/** What recording needs: the database, and the lease length from the config (30 s without one). */
type LogDeps = Pick<Deps, 'db'> & { config?: Pick<Deps['config'], 'INBOUND_LEASE_MS'> };
const DEFAULT_LEASE_MS = 30_000;

/** A row to record in the inbound log. */
export interface InboundRow {
  source: string;
  robotCode: string;
  msgId: string;
  text: string;
  caller: Caller;
  conversationId?: string;
  conversationType?: string;
  /** The whole chat message (kept so the sweep can run it again). */
  message?: ChatMessage;
  requestHash?: string;
  /** Count the message against this per-minute rate-limit key in the same statement (chat messages). */
  rateKey?: string;
}

/** The outcome of claiming an inbound row. */
export type Claim =
  | { claimed: true; id: number; attempts: number; rate?: Counted }
  /** Seen before and finished, or still being handled by a live process (its lease is fresh). */
  | { claimed: false; id: number; outcome: string; requestHash: string | null; response: StoredResponse | null };

/** A webhook answer kept for replays. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** One claim as the batched statement takes it. */
interface ClaimItem {
  i: number;
  source: string;
  robot_code: string;
  msg_id: string;
  text: string;
  sender_id: string;
  sender_staff_id: string | null;
  sender_nick: string | null;
  conversation_id: string | null;
  conversation_type: string | null;
  message: ChatMessage | null;
  request_hash: string | null;
  lease_ms: number;
  rate_key: string | null;
}

type ClaimRow = {
  i: number;
  id: number | null;
  attempts: number | null;
  rate_key: string | null;
  rate_count: number | null;
  retry_after: number | null;
  seen_id: number | null;
  outcome: string | null;
  request_hash: string | null;
  response: unknown;
};

const parseResponse = (response: unknown) =>
  ((typeof response === 'string' ? JSON.parse(response) : response) as StoredResponse | null) ?? null;

// Every claim of one event-loop turn in one statement (group commit, src/db/batch.ts): the insert,
// and for a (robotCode, msgId) seen before, the row as it was. Two claims of the same message in one
// turn are not put in one statement (Postgres cannot update a row twice in one): the later one waits
// for the next statement, as it would have waited behind the first one's own statement.
const claimBatch = perDatabase((db: Database) => {
  const claim = createBatcher<ClaimItem, Claim>(async (items) => {
    const first = new Map<string, ClaimItem>();
    const later: ClaimItem[] = [];
    for (const it of items) {
      const k = `${it.robot_code}\u0000${it.msg_id}`;
      if (first.has(k)) later.push(it);
      else first.set(k, it);
    }
    const batch = [...first.values()].map((it, i) => ({ ...it, i }));
    const rows = await db.query<ClaimRow>(
      `with v as (
         select * from jsonb_to_recordset($1::jsonb) as v(i int, source text, robot_code text, msg_id text, text text,
           sender_id text, sender_staff_id text, sender_nick text, conversation_id text, conversation_type text,
           message jsonb, request_hash text, lease_ms double precision, rate_key text)),
       ins as (
         insert into inbound_messages as m (source, robot_code, msg_id, text, sender_id, sender_staff_id, sender_nick,
             conversation_id, conversation_type, message, request_hash)
         select source, robot_code, msg_id, text, sender_id, sender_staff_id, sender_nick, conversation_id,
             conversation_type, message, request_hash from v order by robot_code, msg_id
         on conflict (robot_code, msg_id) do update
           set claimed_at = now(), attempts = m.attempts + 1, message = coalesce(excluded.message, m.message)
           where m.outcome = 'received'
             and m.claimed_at < now() - (select lease_ms from v where v.robot_code = m.robot_code and v.msg_id = m.msg_id)
                 * interval '1 millisecond'
             and m.request_hash is not distinct from excluded.request_hash
         returning m.id, m.attempts, m.robot_code, m.msg_id),
       -- Each claimed message counts against its sender's minute (as takeRateLimit counts).
       rl as (
         insert into rate_limits as r (key, window_start, count)
         select v.rate_key, date_trunc('minute', now()), count(*)::int
           from v join ins on ins.robot_code = v.robot_code and ins.msg_id = v.msg_id
          where v.rate_key is not null
          group by v.rate_key
         ${COUNT_UPSERT})
       select v.i, ins.id, ins.attempts, rl.key as rate_key, rl.count as rate_count, rl.retry_after, s.id as seen_id, s.outcome, s.request_hash, s.response
         from v
         left join ins on ins.robot_code = v.robot_code and ins.msg_id = v.msg_id
         left join rl on ins.id is not null and rl.key = v.rate_key
         left join lateral (
           select s.id, s.outcome, s.request_hash, s.response from inbound_messages s
            where ins.id is null and s.robot_code = v.robot_code and s.msg_id = v.msg_id limit 1) s on true`,
      [JSON.stringify(batch)],
    );
    const byI = new Map(rows.map((r) => [Number(r.i), r]));
    // Claims of one key in this statement get the counts serial increments would have.
    const totals = new Map<string, { count: number; retry_after: number }>();
    for (const r of rows)
      if (r.rate_key && r.rate_count != null) totals.set(r.rate_key, { count: r.rate_count, retry_after: Number(r.retry_after) });
    const counted = serialCounts(
      batch.map((it) => (byI.get(it.i)?.id != null ? it.rate_key : null)),
      totals,
    );
    const rates = new Map(batch.map((it, k) => [it.i, counted[k]]));
    const out = new Map<ClaimItem, Promise<Claim> | Claim>();
    await Promise.all(
      batch.map(async (it) => {
        const r = byI.get(it.i);
        let result: Claim;
        if (r?.id != null) {
          const rate = rates.get(it.i);
          result = { claimed: true, id: Number(r.id), attempts: Number(r.attempts), ...(rate ? { rate } : {}) };
        } else if (r?.seen_id != null) {
          result = {
            claimed: false,
            id: Number(r.seen_id),
            outcome: String(r.outcome),
            requestHash: r.request_hash,
            response: parseResponse(r.response),
          };
        } else {
          // Inserted by another process after this statement's snapshot was taken: read it now.
          const [seen] = await db.query<{ id: number; outcome: string; request_hash: string | null; response: unknown }>(
            'select id, outcome, request_hash, response from inbound_messages where robot_code = $1 and msg_id = $2',
            [it.robot_code, it.msg_id],
          );
          if (!seen) throw new Error(`inbound row ${it.robot_code}/${it.msg_id} vanished`);
          result = {
            claimed: false,
            id: Number(seen.id),
            outcome: seen.outcome,
            requestHash: seen.request_hash,
            response: parseResponse(seen.response),
          };
        }
        out.set(first.get(`${it.robot_code}\u0000${it.msg_id}`) as ClaimItem, result);
      }),
    );
    // Not awaited here: they go in a later statement, which may wait for this one to be done.
    for (const it of later) out.set(it, claim(it));
    return items.map((it) => out.get(it) as Claim | Promise<Claim>);
  });
  return claim;
});

/**
 * Record a command in the inbound log before running it, and claim it. A (robotCode, msgId) seen
 * before is claimed again only when its handling never finished (outcome still `received`) and the
 * process that took it stopped renewing its lease for `INBOUND_LEASE_MS`: it died. Otherwise the
 * call is a duplicate and must not run. Resolves once the row is committed; claims made in the same
 * event-loop turn share one statement.
 */
export async function claimInbound(deps: LogDeps, row: InboundRow): Promise<Claim> {
  return claimBatch(deps.db)({
    i: 0,
    source: row.source,
    robot_code: row.robotCode,
    msg_id: row.msgId,
    text: row.text,
    sender_id: row.caller.key,
    sender_staff_id: row.caller.staffId ?? null,
    sender_nick: row.caller.nick ?? null,
    conversation_id: row.conversationId ?? null,
    conversation_type: row.conversationType ?? null,
    message: row.message ?? null,
    request_hash: row.requestHash ?? null,
    lease_ms: deps.config?.INBOUND_LEASE_MS ?? DEFAULT_LEASE_MS,
    rate_key: row.rateKey ?? null,
  });
}

/**
 * Record a command in the inbound log (CLI). Returns the row id, or null when this
 * (robotCode, msgId) was seen before and must not run again.
 */
export async function recordInbound(deps: LogDeps, row: InboundRow): Promise<number | null> {
  const c = await claimInbound(deps, row);
  return c.claimed ? c.id : null;
}

/** Keep a claimed row's lease fresh while it is handled; returns the function that stops it. */
export function holdLease(deps: Pick<Deps, 'db' | 'config' | 'log'>, id: number): () => void {
  const timer = setInterval(
    () => {
      deps.db
        .query(`update inbound_messages set claimed_at = now() where id = $1 and outcome = 'received'`, [id])
        .catch((err) => deps.log.warn({ err: errorMessage(err), inboundId: id }, 'could not renew the inbound lease'));
    },
    Math.max(100, Math.floor(deps.config.INBOUND_LEASE_MS / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/** What becomes of a recorded command, as `finishInbound` stores it. */
interface Finish {
  id: number;
  command?: string;
  args: unknown;
  outcome: string;
  error?: string;
  job_id?: number;
  finished_at: string;
  has_response: boolean;
  response?: StoredResponse;
}

// Every finish of one event-loop turn in one UPDATE (group commit, src/db/batch.ts). A field left
// undefined keeps the row's value, as a single update that omits it would.
const finishBatch = perDatabase((db: Database) =>
  createBatcher<Finish, void>(async (items) => {
    const byId = new Map<number, Finish>();
    for (const f of items) byId.set(f.id, f); // the same row twice in a turn: the later finish wins
    await db.query(
      `update inbound_messages as m set
         command = coalesce(v.command, m.command), args = v.args, outcome = v.outcome,
         error = coalesce(v.error, m.error), job_id = coalesce(v.job_id, m.job_id), finished_at = v.finished_at,
         response = case when v.has_response then v.response else m.response end
       from jsonb_to_recordset($1::jsonb) as v(id bigint, command text, args jsonb, outcome text, error text,
         job_id bigint, finished_at timestamptz, has_response boolean, response jsonb)
       where m.id = v.id and m.id = any($2::bigint[])`,
      [JSON.stringify([...byId.values()]), idArray([...byId.keys()])],
    );
    return items.map(() => undefined);
  }),
);

/**
 * Store what became of a recorded command (parsed name, args, outcome, job; a webhook's answer).
 * Resolves once it is stored: finishes made in the same event-loop turn share one statement.
 */
export async function finishInbound(
  deps: Pick<Deps, 'db'>,
  id: number,
  result: { outcome: Outcome | 'abandoned'; command?: string; args?: unknown; error?: string; jobId?: number },
  response?: StoredResponse,
): Promise<void> {
  await finishBatch(deps.db)({
    id,
    command: result.command,
    args: result.args ?? null,
    outcome: result.outcome,
    error: result.error?.slice(0, 2000),
    job_id: result.jobId,
    finished_at: new Date().toISOString(),
    has_response: Boolean(response),
    response,
  });
}

/**
 * What the transports get back once a message is safely recorded: `dispatched` settles with the
 * result as soon as the command has run (its outcome may still be on its way to the database),
 * `done` once the outcome is stored and the replies are queued.
 */
export type Accepted =
  | { duplicate: true }
  | { duplicate: false; inboundId: number; dispatched: Promise<DispatchResult>; done: Promise<DispatchResult> };

/**
 * Record a chat message (the step a transport must finish before it acknowledges DingTalk), then
 * dispatch it in the background: `done` settles with the result once the replies are queued.
 * Shared by the HTTP callback, Stream mode and the sweep.
 */
export async function acceptChatMessage(deps: Deps, m: ChatMessage): Promise<Accepted> {
  const caller = callerOf(deps, m);
  const claim = await claimInbound(deps, {
    source: m.source,
    robotCode: m.robotCode,
    msgId: m.msgId,
    text: m.text,
    caller,
    conversationId: m.conversationId,
    conversationType: m.conversationType,
    message: m,
    // Counted in the claim's own statement: one round trip records, dedupes and rate-limits.
    rateKey: rateLimitKey(caller),
  });
  if (!claim.claimed) {
    deps.log.info({ msgId: m.msgId, source: m.source, outcome: claim.outcome }, 'duplicate message ignored');
    return { duplicate: true };
  }
  if (claim.attempts > 1) deps.log.warn({ msgId: m.msgId, attempts: claim.attempts }, 'running a message whose handling never finished');
  let onDispatched: (r: DispatchResult) => void = () => {};
  const dispatched = new Promise<DispatchResult>((resolve) => {
    onDispatched = resolve;
  });
  const done = runClaimed(deps, claim.id, m, onDispatched, claim.rate);
  // A run that fails before its dispatch returns settles `dispatched` with the same failure.
  done.catch(() => {});
  deps.background.track(done);
  return { duplicate: false, inboundId: claim.id, dispatched: Promise.race([dispatched, done]), done };
}

/**
 * Dispatch a claimed message, store the outcome, queue the replies (also the edge's queued
 * messages). `onDispatched` hears the result as soon as the command has run.
 */
export async function runClaimed(
  deps: Deps,
  id: number,
  m: ChatMessage,
  onDispatched?: (r: DispatchResult) => void,
  rate?: Counted,
): Promise<DispatchResult> {
  const release = holdLease(deps, id);
  let announced: (() => void) | undefined;
  try {
    await deps.faults?.afterInboundRecorded?.(m);
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
        caller: callerOf(deps, m),
        text: m.text,
        conversation: { id: m.conversationId, type: m.conversationType, title: m.conversationTitle },
        replyTarget: target,
        rateCounted: rate,
      };
      result = await dispatch(deps, req);
    }
    // The job this command started says nothing in chat before these replies have gone out.
    if (result.jobId !== undefined && result.messages.length > 0) announced = deps.replyOrder.hold(result.jobId);
    onDispatched?.(result);
    await finishInbound(deps, id, result).catch((err) =>
      deps.log.error({ err: errorMessage(err), inboundId: id }, 'could not record the outcome'),
    );
    deliver(deps, id, target, result.messages, announced);
    announced = undefined;
    return result;
  } finally {
    release();
    announced?.();
  }
}

/**
 * Send replies in order, in the background (after the transport has answered DingTalk), then
 * `done` (the job they announce may speak from then on).
 */
function deliver(deps: Deps, id: number, target: ReplyTarget, messages: DispatchResult['messages'], done?: () => void): void {
  const run = async () => {
    try {
      for (const message of messages) {
        await deps.notifier.send(target, message).catch((err) => {
          deps.log.error({ err: errorMessage(err), inboundId: id }, 'reply could not be delivered');
        });
      }
    } finally {
      done?.();
    }
  };
  deps.background.track(run());
}

/** Log, dispatch and answer a message, waiting for the dispatch (tests and tools). */
export async function handleChatMessage(
  deps: Deps,
  m: ChatMessage,
): Promise<{ duplicate: true } | { duplicate: false; result: DispatchResult }> {
  const a = await acceptChatMessage(deps, m);
  return a.duplicate ? a : { duplicate: false, result: await a.done };
}

/** Handling attempts (first delivery included) before the sweep gives up on a message and apologises. */
export const MAX_INBOUND_ATTEMPTS = 3;

/**
 * Resolve chat messages left `received` by a process that died (or queued at the edge and never
 * taken by their job): take over those whose lease has been stale for twice its length (DingTalk's
 * own redelivery gets the first lease period) and run them again; after MAX_INBOUND_ATTEMPTS tell the sender it did not run. Returns how many rows
 * were resolved.
 */
export async function sweepInbound(deps: Deps, limit = 20): Promise<number> {
  const rows = await deps.db.query<{ id: number; attempts: number; message: unknown; text: string }>(
    `update inbound_messages set claimed_at = now(), attempts = attempts + 1
      where id in (
        select id from inbound_messages
         where outcome = 'received' and source in ('http', 'stream', 'edge')
           and claimed_at < now() - 2 * $1::double precision * interval '1 millisecond'
         order by claimed_at limit $2 for update skip locked)
      returning id, attempts, message, text`,
    [deps.config.INBOUND_LEASE_MS, limit],
  );
  for (const row of rows) {
    const id = Number(row.id);
    const m = (typeof row.message === 'string' ? JSON.parse(row.message) : row.message) as ChatMessage | null;
    if (!m || Number(row.attempts) > MAX_INBOUND_ATTEMPTS) {
      await finishInbound(deps, id, { outcome: 'abandoned', error: `gave up after ${Number(row.attempts) - 1} attempts` });
      if (m) deliver(deps, id, replyTargetOf(m), [{ type: 'text', text: deps.t('inbound.abandoned', { text: clipText(m.text, 80) }) }]);
      deps.log.warn({ inboundId: id }, 'inbound message abandoned');
      continue;
    }
    deps.log.warn({ inboundId: id, attempts: row.attempts }, 'sweep: running a message whose handling never finished');
    await runClaimed(deps, id, m).catch((err) => deps.log.error({ err: errorMessage(err), inboundId: id }, 'sweep re-run failed'));
  }
  return rows.length;
}

/**
 * Log a call from another system in the inbound log, keyed by its `Idempotency-Key` (scoped to the
 * caller) when it sends one. See `claimInbound` for when a repeated key runs again.
 */
export function claimWebhookCall(deps: LogDeps, caller: Caller, msgId: string, text: string, requestHash?: string): Promise<Claim> {
  return claimInbound(deps, { source: 'webhook', robotCode: 'webhook', msgId, text: text.slice(0, 4000), caller, requestHash });
}
