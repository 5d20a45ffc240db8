import type { Config } from '../config';
import type { Database } from '../db/client';
import { errorMessage, PermanentJobError } from '../errors';
import type { Translator } from '../i18n';
import { formatDuration } from '../jobs/render';
import { defineJob, type JobDefinition } from '../jobs/types';
import { reserveNumbers } from './order-numbers';
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
import { compileRenderer, numbersPerMessage, type PushSpec, presetName, renderMessage, shanghaiDate } from './render';

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
  durationMs: number;
  /** Messages sent again after a lost connection: an upper bound on duplicates (never losses). */
  republished: number;
}

interface RunState {
  seqStart: number;
  orderDate: string;
  confirmed: number;
  republished: number;
  firstOrderNo: string | null;
  lastOrderNo: string | null;
}

/** Load the push's state, or create it: reserve its order numbers once, for every attempt. */
async function loadOrStart(db: Database, jobId: number, preset: Preset, spec: PushSpec, createdAtMs: number): Promise<RunState> {
  const read = async () =>
    (
      await db.query<{
        seq_start: number;
        order_date: string;
        confirmed: number;
        republished: number;
        first_order_no: string | null;
        last_order_no: string | null;
      }>(`select seq_start, order_date, confirmed, republished, first_order_no, last_order_no from push_runs where job_id = $1`, [jobId])
    )[0];
  let row = await read();
  if (!row) {
    const seqStart = await reserveNumbers(db, spec.count * numbersPerMessage(preset));
    const orderDate = shanghaiDate(createdAtMs);
    const ctx = { seqStart, date: orderDate, nowMs: createdAtMs, jobKey: String(jobId) };
    const first = renderMessage(preset, spec, { ...ctx, index: 0 }).orderNo;
    const last = renderMessage(preset, spec, { ...ctx, index: spec.count - 1 }).orderNo;
    // Two attempts racing here is not expected (one lease), but if it happens the first row wins.
    await db.query(
      `insert into push_runs (job_id, seq_start, order_date, first_order_no, last_order_no) values ($1, $2, $3, $4, $5)
       on conflict (job_id) do nothing`,
      [jobId, seqStart, orderDate, first, last],
    );
    row = await read();
  }
  if (!row) throw new Error(`push_runs row for job ${jobId} vanished`);
  return {
    seqStart: Number(row.seq_start),
    orderDate: row.order_date,
    confirmed: Number(row.confirmed),
    republished: Number(row.republished),
    firstOrderNo: row.first_order_no,
    lastOrderNo: row.last_order_no,
  };
}

export interface PushJobEnv {
  presets: PresetRegistry;
  publisher?: Publisher;
  config: Pick<Config, 'AMQP_URL' | 'AMQP_QUEUE_MODE' | 'AMQP_CONFIRM_WINDOW' | 'PUSH_ALLOWED_QUEUES'>;
  t: Translator;
}

/**
 * The push job: render the messages window by window, publish each window on a confirm channel
 * and persist the confirmed count, so a retried or taken-over job continues where it stopped.
 * A lost connection is survived within the attempt: reconnect, republish the unconfirmed window.
 */
export function createPushJob(env: PushJobEnv): JobDefinition<PushPayload, PushResult> {
  const { t } = env;
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
          t('push.queueNotAllowed', { queue: spec.queue, allowed: allowedQueues(env.config, env.presets).join(', ') }),
        );
      }
      const state = await loadOrStart(db, job.id, preset, spec, job.createdAt.getTime());
      const window = env.config.AMQP_CONFIRM_WINDOW;
      if (job.attempts > 1 && state.confirmed < spec.count) {
        // A previous attempt may have published past its last confirmed window.
        state.republished += Math.min(window, spec.count - state.confirmed);
      }

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
        const nowMs = Date.now();
        const out: OutgoingMessage[] = [];
        for (let i = from; i < to; i++) {
          const json = renderJson({ index: i, seqStart: state.seqStart, date: state.orderDate, nowMs, jobKey: String(job.id) });
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
      try {
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
          await db.query(`update push_runs set confirmed = $2, republished = $3, updated_at = now() where job_id = $1`, [
            job.id,
            i,
            state.republished,
          ]);
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
        durationMs: Date.now() - (job.startedAt?.getTime() ?? Date.now()),
        republished: state.republished,
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
          took: formatDuration(r.durationMs, tr),
        }),
      ];
      if (r.republished > 0) lines.push(tr('push.republished', { n: r.republished }));
      return lines.join('\n\n');
    },
  });
}
