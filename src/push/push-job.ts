import type { Config } from '../config';
import type { Database } from '../db/client';
import { errorMessage, PermanentJobError } from '../errors';
import type { Translator } from '../i18n';
import { defineJob, type JobDefinition } from '../jobs/types';
import { numbersPerMessage, shanghaiDate } from './generators';
import { installTag, reserveNumbers } from './order-numbers';
import { allowedQueues, isQueueAllowed } from './prepare';
import type { Preset } from './preset-schema';
import type { PresetRegistry } from './presets';
import {
  BrokerUnavailableError,
  describeBroker,
  NackError,
  type OutgoingMessage,
  type Publisher,
  QueueMismatchError,
  QueueMissingError,
  UnroutableError,
} from './publisher';
import { compileRenderer, renderMessage } from './render';
import { type PushSpec, presetName } from './spec';

/** Job kind of order pushes. */
export const PUSH_KIND = 'order_push';

/** What a push job is given: the validated spec and who asked. */
export interface PushPayload {
  spec: PushSpec;
  requestedBy: string;
  requestedByName?: string;
  template?: string;
  replayOf?: number;
}

/** What a finished push reports. */
export interface PushResult {
  type: string;
  queue: string;
  count: number;
  firstOrderNo: string;
  lastOrderNo: string;
  /** Run time of the attempt that finished the push. */
  durationMs: number;
  /** Messages sent more than once, an upper bound on duplicates (never losses): the sum of the two below. */
  republished: number;
  /** Of those, re-sent after a lost connection (absent in results from before the split: all were). */
  resentOnReconnect?: number;
  /** Of those, re-sent by a retried attempt: handed to the broker before, never confirmed. */
  resentOnRetry?: number;
}

interface RunState {
  seqStart: number;
  orderDate: string;
  installTag: string | undefined;
  confirmed: number;
  /** Messages handed to the broker by any attempt; null for pushes started before it was recorded. */
  sent: number | null;
  republished: number;
  resentOnRetry: number;
  firstOrderNo: string | null;
  lastOrderNo: string | null;
}

type RunRow = {
  seq_start: number;
  order_date: string;
  install_tag: string | null;
  confirmed: number;
  sent: number | null;
  republished: number;
  resent_on_retry: number;
  first_order_no: string | null;
  last_order_no: string | null;
};

/** Load the push's state, or create it: reserve its order numbers once, for every attempt. */
async function loadOrStart(db: Database, jobId: number, preset: Preset, spec: PushSpec, createdAtMs: number): Promise<RunState> {
  const read = async () =>
    (
      await db.query<RunRow>(
        `select seq_start, order_date, install_tag, confirmed, sent, republished, resent_on_retry, first_order_no, last_order_no
           from push_runs where job_id = $1`,
        [jobId],
      )
    )[0];
  let row = await read();
  if (!row) {
    const seqStart = await reserveNumbers(db, spec.count * numbersPerMessage(preset));
    const tag = await installTag(db);
    const orderDate = shanghaiDate(createdAtMs);
    const ctx = { seqStart, date: orderDate, nowMs: createdAtMs, jobKey: String(jobId), installTag: tag };
    const first = renderMessage(preset, spec, { ...ctx, index: 0 }).orderNo;
    const last = renderMessage(preset, spec, { ...ctx, index: spec.count - 1 }).orderNo;
    // Two attempts racing here is not expected (one lease), but if it happens the first row wins.
    await db.query(
      `insert into push_runs (job_id, seq_start, order_date, install_tag, sent, first_order_no, last_order_no)
       values ($1, $2, $3, $4, 0, $5, $6) on conflict (job_id) do nothing`,
      [jobId, seqStart, orderDate, tag, first, last],
    );
    row = await read();
  }
  if (!row) throw new Error(`push_runs row for job ${jobId} vanished`);
  return {
    seqStart: Number(row.seq_start),
    orderDate: row.order_date,
    installTag: row.install_tag ?? undefined,
    confirmed: Number(row.confirmed),
    sent: row.sent === null ? null : Number(row.sent),
    republished: Number(row.republished),
    resentOnRetry: Number(row.resent_on_retry),
    firstOrderNo: row.first_order_no,
    lastOrderNo: row.last_order_no,
  };
}

export interface PushJobEnv {
  presets: PresetRegistry;
  publisher?: Publisher;
  config: Pick<Config, 'AMQP_URL' | 'AMQP_QUEUE_MODE' | 'AMQP_CONFIRM_WINDOW' | 'PUSH_ALLOWED_QUEUES' | 'PUSH_EXTRA_QUEUES'>;
  t: Translator;
  /** The clock (Deps.now): render times and run time. */
  now?: () => number;
}

/**
 * The push job: render the messages window by window, publish each window on a confirm channel
 * and persist the confirmed count, so a retried or taken-over job continues where it stopped.
 * A lost connection is survived within the attempt: reconnect, republish the unconfirmed window.
 */
export function createPushJob(env: PushJobEnv): JobDefinition<PushPayload, PushResult> {
  const { t } = env;
  const now = env.now ?? Date.now;
  return defineJob<PushPayload, PushResult>({
    kind: PUSH_KIND,
    maxAttempts: 3,
    softTimeoutMs: 10 * 60_000,
    retry: { backoff: 'exponential', baseMs: 5000, maxMs: 2 * 60_000, jitter: 0.2 },
    async run(payload, { job, db, signal, progress, log }) {
      const { spec } = payload;
      const publisher = env.publisher;
      if (!publisher || !env.config.AMQP_URL) throw new PermanentJobError(t('push.noBroker'));
      const preset = env.presets.get(spec.type);
      if (!preset) throw new PermanentJobError(t('push.presetGone', { type: spec.type }));
      if (!isQueueAllowed(spec.queue, allowedQueues(env.config, env.presets))) {
        throw new PermanentJobError(
          t('push.queueNotAllowed', { queue: spec.queue, allowed: allowedQueues(env.config, env.presets).join(t('list.sep')) }),
        );
      }
      const state = await loadOrStart(db, job.id, preset, spec, job.createdAt.getTime());
      const startedMs = now();
      const window = env.config.AMQP_CONFIRM_WINDOW;
      // What an earlier attempt handed to the broker beyond its last confirmed window goes again
      // (it may or may not have reached the queue). Nothing, if it never published. Pushes from
      // before `sent` was recorded assume one window.
      const handedBefore = state.sent ?? Math.min(spec.count, state.confirmed + window);
      const resentNow = job.attempts > 1 ? Math.max(0, handedBefore - state.confirmed) : 0;
      state.republished += resentNow;
      state.resentOnRetry += resentNow;
      let sent = Math.max(state.sent ?? 0, state.confirmed);

      try {
        await publisher.prepareQueue(spec.queue, env.config.AMQP_QUEUE_MODE, signal);
      } catch (err) {
        if (err instanceof QueueMismatchError)
          throw new PermanentJobError(t('push.queueMismatch', { queue: spec.queue, detail: err.message }));
        if (err instanceof QueueMissingError) throw new PermanentJobError(t('push.queueMissing', { queue: spec.queue }));
        throw err; // unreachable broker: retried
      }

      const who = payload.requestedByName ? `${payload.requestedByName} (${payload.requestedBy})` : payload.requestedBy;
      const renderJson = compileRenderer(preset, spec);
      const render = (from: number, to: number): OutgoingMessage[] => {
        const nowMs = now();
        const out: OutgoingMessage[] = [];
        for (let i = from; i < to; i++) {
          const json = renderJson({
            index: i,
            seqStart: state.seqStart,
            date: state.orderDate,
            nowMs,
            jobKey: String(job.id),
            installTag: state.installTag,
          });
          out.push({
            content: Buffer.from(json, 'utf8'),
            messageId: `${job.id}-${i + 1}`,
            type: spec.type,
            // One header: each header costs the broker noticeably per message (measured ~15%); the
            // job and index are in message_id, the order type in the type property.
            headers: { 'x-pushed-by': who },
          });
        }
        return out;
      };

      let session = await publisher.openSession(spec.queue, signal);
      let i = state.confirmed; // everything before i is confirmed and recorded
      let next = i; // everything before next has been handed to the channel
      let nacks = 0;
      // Two windows in flight: while the broker confirms one, the next is rendered and written.
      let inFlight: { end: number; done: Promise<void> }[] = [];
      // Recorded before messages are handed over: at most two windows past the confirmed count.
      const recordSent = async (confirmed: number) => {
        const bound = Math.min(spec.count, confirmed + 2 * window);
        if (bound <= sent) return;
        sent = bound;
        await db.query(`update push_runs set sent = $2 where job_id = $1`, [job.id, sent]);
      };
      try {
        if (resentNow > 0) {
          await db.query(`update push_runs set republished = $2, resent_on_retry = $3, updated_at = now() where job_id = $1`, [
            job.id,
            state.republished,
            state.resentOnRetry,
          ]);
        }
        await recordSent(i);
        while (i < spec.count) {
          signal.throwIfAborted();
          while (inFlight.length < 2 && next < spec.count) {
            const end = Math.min(spec.count, next + window);
            const done = session.publishConfirmed(render(next, end));
            done.catch(() => {}); // awaited in order below
            inFlight.push({ end, done });
            next = end;
          }
          const w = inFlight[0] as { end: number; done: Promise<void> };
          try {
            await w.done;
          } catch (err) {
            if (err instanceof UnroutableError) throw new PermanentJobError(t('push.unroutable', { queue: spec.queue }));
            if (!(err instanceof BrokerUnavailableError || err instanceof NackError) || signal.aborted) throw err;
            if (err instanceof NackError && ++nacks > 5) throw err;
            // Every unconfirmed message goes again: some may have reached the queue (duplicates
            // allowed, losses not).
            state.republished += next - i;
            log.warn(
              { err: errorMessage(err), confirmed: i, broker: describeBroker(env.config.AMQP_URL) },
              'publishing interrupted; reconnecting',
            );
            await session.close();
            session = await publisher.openSession(spec.queue, signal);
            inFlight = [];
            next = i;
            continue;
          }
          inFlight.shift();
          i = w.end;
          const bound = Math.max(sent, Math.min(spec.count, i + 2 * window));
          await db.query(`update push_runs set confirmed = $2, republished = $3, sent = $4, updated_at = now() where job_id = $1`, [
            job.id,
            i,
            state.republished,
            bound,
          ]);
          sent = bound;
          progress((i / spec.count) * 100, t('push.progress', { confirmed: i, count: spec.count }));
        }
      } finally {
        await session.close();
      }
      return {
        type: spec.type,
        queue: spec.queue,
        count: spec.count,
        firstOrderNo: state.firstOrderNo ?? '',
        lastOrderNo: state.lastOrderNo ?? '',
        durationMs: now() - startedMs,
        republished: state.republished,
        resentOnReconnect: state.republished - state.resentOnRetry,
        resentOnRetry: state.resentOnRetry,
      };
    },
    describe(r, tr) {
      const preset = env.presets.get(r.type);
      const lines = [
        tr('push.done', {
          count: r.count,
          type: preset ? presetName(preset, tr.locale) : r.type,
          queue: r.queue,
          first: r.firstOrderNo,
          last: r.lastOrderNo,
        }),
      ];
      // The time taken is the job's own closing line (job.final.took); not repeated here.
      const onRetry = r.resentOnRetry ?? 0;
      const onReconnect = r.resentOnReconnect ?? r.republished - onRetry;
      if (onReconnect > 0) lines.push(tr('push.republished', { n: onReconnect }));
      if (onRetry > 0) lines.push(tr('push.resentOnRetry', { n: onRetry }));
      return lines.join('\n\n');
    },
  });
}
