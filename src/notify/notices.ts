import type { Orm } from '../db/client';
import type { Deps } from '../deps';
import { errorMessage } from '../errors';
import { backoffDelay } from '../lib/backoff';
import type { ReplyTarget } from '../outbound';
import { type Attempt, type DeliverContext, deliverOnce } from './deliver';
import { createEmailSender, type EmailSender } from './email';
import { enqueueNotice, NOTICE_CHANNEL, type NoticeRequest, type StoredNotice } from './outbox';
import type { SecretBox } from './secret-box';
import { describeTarget, type ResolvedTarget } from './targets';

export type NoticeDeps = Pick<Deps, 'db' | 'config' | 'log' | 't' | 'fetch' | 'now' | 'notifier' | 'metrics'>;

/** Timings; the defaults are DingTalk's (20 a minute, a 10-minute block); tests shrink them. */
export interface NoticeTuning {
  pollMs: number;
  batch: number;
  leaseMs: number;
  robotWindowMs: number;
  /** Added to the window so network latency cannot squeeze a 21st message into DingTalk's minute. */
  robotMarginMs: number;
  throttleBaseMs: number;
  throttleMaxMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
}

const DEFAULT_TUNING: NoticeTuning = {
  pollMs: 5000,
  batch: 10,
  leaseMs: 120_000,
  robotWindowMs: 60_000,
  robotMarginMs: 1000,
  throttleBaseMs: 60_000,
  throttleMaxMs: 600_000,
  retryBaseMs: 5000,
  retryMaxMs: 600_000,
  requestTimeoutMs: 15_000,
};

/** The notice service the server starts: enqueue from anywhere, a sender loop per instance. */
export interface Notices {
  /**
   * Render and queue a notice for each target. Pass `tx` (a Drizzle transaction) to write it in the
   * same transaction as the result. Throws a UserError for a bad template or target; returns row ids.
   * @example await notices.enqueue({ jobId, facts, targets: [{ kind: 'requester' }], requester: job.replyTo }, { tx })
   */
  enqueue(req: NoticeRequest, opts?: { tx?: Orm }): Promise<number[]>;
  /** Start the sender loop (LISTEN for new notices, poll as a fallback). */
  start(): Promise<void>;
  /** Stop taking rows, finish the tries in flight, close SMTP. */
  stop(): Promise<void>;
  /** Resolves when nothing is due right now (tests wait on it, then check rows). */
  runOnce(): Promise<number>;
}

interface ClaimedRow {
  id: number;
  job_id: number | null;
  channel: string;
  target: ResolvedTarget;
  message: StoredNotice;
  announce_to: ReplyTarget | null;
  attempts: number;
  max_attempts: number;
}

/**
 * Build the notice service. `box` opens sealed robot credentials (the exports module's AES-GCM box).
 * @example const notices = createNotices(deps, { box }); await notices.start(); … await notices.stop();
 */
export function createNotices(deps: NoticeDeps, opts: { box: SecretBox; tuning?: Partial<NoticeTuning>; email?: EmailSender }): Notices {
  const tune = { ...DEFAULT_TUNING, ...opts.tuning };
  const { db, config, t } = deps;
  const log = deps.log.child({ component: 'notices' });
  const email = opts.email ?? createEmailSender(config);
  const outcomes = deps.metrics.counter(
    'notice_deliveries_total',
    'Notice delivery tries by channel and outcome (sent, wait, retry, failed).',
  );
  const durations = deps.metrics.histogram('notice_delivery_seconds', 'Time of one notice delivery try, by channel.');
  deps.metrics.gauge('notice_outbox', 'Notice deliveries in the outbox by status.', async () => {
    const rows = await db.query<{ status: string; n: number }>('select status, count(*)::int as n from notice_deliveries group by status');
    return rows.map((r) => ({ labels: { status: r.status }, value: Number(r.n) }));
  });

  let abort = new AbortController();
  let running = false;
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let wake: (() => void) | undefined;
  const ctx: DeliverContext = {
    db,
    box: opts.box,
    fetch: deps.fetch,
    now: deps.now,
    notifier: deps.notifier,
    email,
    oapiBase: config.DINGTALK_OAPI_BASE,
    robotCode: config.robotCode,
    robotLimit: config.NOTICE_ROBOT_PER_MINUTE,
    robotWindowMs: tune.robotWindowMs,
    robotMarginMs: tune.robotMarginMs,
    throttleBaseMs: tune.throttleBaseMs,
    throttleMaxMs: tune.throttleMaxMs,
    requestTimeoutMs: tune.requestTimeoutMs,
    get signal() {
      return abort.signal;
    },
  };

  async function claim(): Promise<ClaimedRow[]> {
    return db.query<ClaimedRow>(
      `update notice_deliveries set status = 'sending', attempts = attempts + 1, updated_at = now(),
              locked_until = clock_timestamp() + make_interval(secs => $1::float8 / 1000)
       where id in (select id from notice_deliveries
                    where status in ('pending', 'sending') and next_attempt_at <= clock_timestamp()
                      and (locked_until is null or locked_until < clock_timestamp())
                    order by next_attempt_at, id limit $2 for update skip locked)
       returning id, job_id, channel, target, message, announce_to, attempts, max_attempts`,
      [tune.leaseMs, tune.batch],
    );
  }

  async function settle(row: ClaimedRow, a: Attempt): Promise<void> {
    const channel = row.channel;
    if (a.kind === 'sent') {
      outcomes.inc({ channel, outcome: 'sent' });
      await db.query(
        `update notice_deliveries set status = 'sent', sent_at = now(), locked_until = null, last_error = null, updated_at = now() where id = $1`,
        [row.id],
      );
      return;
    }
    if (a.kind === 'wait' || (a.kind === 'retry' && abort.signal.aborted)) {
      // Waiting for the robot's rate window is not the message's fault: the try is not counted.
      outcomes.inc({ channel, outcome: 'wait' });
      await reschedule(row.id, a.kind === 'wait' ? a.ms : 0, a.kind === 'wait' ? a.reason : 'interrupted by shutdown', false);
      return;
    }
    if (a.kind === 'retry' && row.attempts < row.max_attempts) {
      outcomes.inc({ channel, outcome: 'retry' });
      const ms = backoffDelay(
        { backoff: 'exponential', baseMs: tune.retryBaseMs, maxMs: tune.retryMaxMs, jitter: 0.2 },
        row.attempts,
        Math.random(),
      );
      log.warn({ id: row.id, channel, attempt: row.attempts, error: a.error, retryInMs: ms }, 'notice delivery will be retried');
      await reschedule(row.id, ms, a.error, true);
      return;
    }
    outcomes.inc({ channel, outcome: 'failed' });
    log.error({ id: row.id, channel, attempts: row.attempts, error: a.error }, 'notice delivery failed');
    await db.query(
      `update notice_deliveries set status = 'failed', locked_until = null, last_error = $2, updated_at = now() where id = $1`,
      [row.id, a.error],
    );
    await announceFailure(row, a.error, a.kind === 'fail' ? a.hint : 'retryLater');
  }

  async function reschedule(id: number, ms: number, reason: string, counted: boolean) {
    await db.query(
      `update notice_deliveries set status = 'pending', locked_until = null, last_error = $3, updated_at = now(),
              attempts = attempts - $4::int, next_attempt_at = clock_timestamp() + make_interval(secs => $2::float8 / 1000)
       where id = $1`,
      [id, ms, reason, counted ? 0 : 1],
    );
  }

  async function announceFailure(row: ClaimedRow, error: string, hint: string) {
    // Telling a conversation that it could not be told anything is pointless.
    if (!row.announce_to || row.channel === 'conversation') return;
    const d = describeTarget(row.target);
    const channelText = t(`notify.channel.${d.channel}` as 'notify.channel.robot', { label: d.label });
    try {
      await deps.notifier.send(row.announce_to, {
        type: 'text',
        text: t('notify.deliveryFailed', {
          jobId: row.job_id ?? '-',
          channel: channelText,
          attempts: row.attempts,
          error,
          hint: t(`notify.hint.${hint}` as 'notify.hint.smtp'),
        }),
      });
    } catch (err) {
      log.warn({ id: row.id, err: errorMessage(err) }, 'could not announce a failed notice');
    }
  }

  async function runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await claim();
      total += rows.length;
      await Promise.all(
        rows.map(async (row) => {
          const started = performance.now();
          const attempt = await deliverOnce(ctx, row).catch((err): Attempt => ({ kind: 'retry', error: errorMessage(err) }));
          durations.observe({ channel: row.channel }, (performance.now() - started) / 1000);
          await settle(row, attempt).catch((err) =>
            log.error({ id: row.id, err: errorMessage(err) }, 'could not record a notice delivery'),
          );
        }),
      );
      if (rows.length < tune.batch || !running) return total;
    }
  }

  /** How long until the next row is due (capped by the poll interval). */
  async function nextDueMs(): Promise<number> {
    const rows = await db.query<{ ms: number | null }>(
      `select (extract(epoch from (min(greatest(next_attempt_at, coalesce(locked_until, next_attempt_at))) - clock_timestamp())) * 1000)::float8 as ms
       from notice_deliveries where status in ('pending', 'sending')`,
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? tune.pollMs : Math.min(tune.pollMs, Math.max(10, Math.ceil(Number(ms))));
  }

  async function run() {
    while (running) {
      try {
        await runOnce();
        if (!running) break;
        const ms = await nextDueMs();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'notice sender loop error');
        await new Promise((r) => setTimeout(r, tune.pollMs).unref());
      }
    }
  }

  return {
    enqueue: (req, o = {}) => enqueueNotice(deps, req, o),
    async start() {
      if (running) return;
      running = true;
      if (abort.signal.aborted) abort = new AbortController();
      unlisten = await db.listen(NOTICE_CHANNEL, () => wake?.());
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      abort.abort();
      await loop;
      await unlisten?.();
      email.close();
    },
    runOnce,
  };
}
