import { desc, eq, sql } from 'drizzle-orm';
import type { Database, Orm } from '../db/client';
import { type NoticeStatus, noticeDeliveries } from '../db/schema';
import type { Translator } from '../i18n';
import type { ReplyTarget } from '../outbound';
import { type RenderedNotice, renderNotice } from './render';
import { type DeliveryTarget, describeTarget, normalizeTarget, type ResolvedTarget, resolveTarget, type TaskTarget } from './targets';
import { parseNoticeTemplate } from './template';
import { type NoticeFacts, noticeValues } from './values';

/** The LISTEN/NOTIFY channel that wakes the sender loops when a notice is enqueued. */
export const NOTICE_CHANNEL = 'notice_deliveries';

/** What a finished run asks to be announced, and to whom. */
export interface NoticeRequest {
  /** The job the notice is about (for the dedupe key, failure messages and lists). */
  jobId?: number;
  facts: NoticeFacts;
  /** The task's own template (validated when saved); absent = the default for the outcome. */
  template?: string;
  /** Either spelling: notify's DeliveryTarget or the exports task schema's `{ type: … }`. */
  targets: (DeliveryTarget | TaskTarget)[];
  /** The conversation the run came from: where `requester` targets go and failures are announced. */
  requester?: ReplyTarget;
  /** A file for e-mail targets, attached when under SMTP_MAX_ATTACHMENT_BYTES (else the link is enough). */
  attachment?: { path: string; filename: string };
  /** Enqueueing again with the same key adds nothing; default `job:<jobId>:<outcome>`. */
  dedupeKey?: string;
}

/** The message stored on a delivery row. */
export interface StoredNotice extends RenderedNotice {
  attachment?: { path: string; filename: string };
}

type NewDelivery = typeof noticeDeliveries.$inferInsert;

/**
 * The outbox rows for one notice: rendered once (in the bot's locale), one row per target. Pure
 * apart from the translator; throws a UserError for a bad template or an unresolvable target.
 */
export function buildDeliveries(req: NoticeRequest, opts: { t: Translator; maxAttempts: number }): NewDelivery[] {
  const outcome = req.facts.outcome;
  const source = req.template ?? opts.t(outcome === 'succeeded' ? 'notify.template.succeeded' : 'notify.template.failed');
  const rendered = renderNotice(parseNoticeTemplate(source), noticeValues(req.facts, opts.t.locale), req.facts.taskName);
  const message: StoredNotice = req.attachment ? { ...rendered, attachment: req.attachment } : rendered;
  const base = req.dedupeKey ?? (req.jobId === undefined ? undefined : `job:${req.jobId}:${outcome}`);
  return req.targets.map((t, i) => {
    const target: ResolvedTarget = resolveTarget(normalizeTarget(t), req.requester);
    return {
      jobId: req.jobId ?? null,
      channel: target.kind,
      target,
      message,
      announceTo: req.requester ?? null,
      dedupeKey: base === undefined ? null : `${base}:${i}:${target.kind}`,
      maxAttempts: opts.maxAttempts,
    };
  });
}

/**
 * Write the rows (in the caller's transaction when `tx` is given, so the notice exists exactly when
 * the result does) and wake the senders. Returns the new ids; rows already enqueued are skipped.
 */
export async function insertDeliveries(orm: Orm, rows: NewDelivery[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const inserted = await orm.insert(noticeDeliveries).values(rows).onConflictDoNothing().returning({ id: noticeDeliveries.id });
  // Delivered at commit, so a sender never wakes for a row it cannot see yet.
  await orm.execute(sql`select pg_notify(${NOTICE_CHANNEL}, '')`);
  return inserted.map((r) => r.id);
}

/**
 * Render and queue a notice without the sender service (job handlers, CLI): the rows wait in the
 * outbox until a running instance's sender loop takes them. Pass `tx` to write them in the caller's
 * transaction. Throws a UserError for a bad template or target; returns the new row ids.
 * @example await enqueueNotice(deps, { jobId: job.id, facts, targets: task.targets, requester: job.replyTo }, { tx })
 */
export async function enqueueNotice(
  deps: { db: Database; t: Translator; config: { NOTICE_MAX_ATTEMPTS: number } },
  req: NoticeRequest,
  opts: { tx?: Orm } = {},
): Promise<number[]> {
  const rows = buildDeliveries(req, { t: deps.t, maxAttempts: deps.config.NOTICE_MAX_ATTEMPTS });
  return insertDeliveries(opts.tx ?? deps.db.orm, rows);
}

/** A delivery as lists and status pages show it: no message body, no secrets. */
export interface DeliveryView {
  id: number;
  jobId: number | null;
  channel: string;
  label: string;
  status: NoticeStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

/** Deliveries of one job (or the latest ones), newest first. */
export async function listDeliveries(db: Database, opts: { jobId?: number; limit?: number } = {}): Promise<DeliveryView[]> {
  const q = db.orm.select().from(noticeDeliveries);
  const rows = await (opts.jobId === undefined ? q : q.where(eq(noticeDeliveries.jobId, opts.jobId)))
    .orderBy(desc(noticeDeliveries.id))
    .limit(opts.limit ?? 50);
  return rows.map((r) => ({
    id: r.id,
    jobId: r.jobId,
    channel: r.channel,
    label: describeTarget(r.target as ResolvedTarget).label,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    createdAt: r.createdAt,
    sentAt: r.sentAt,
  }));
}

/** Put a failed delivery back in the queue with fresh attempts (after fixing its target). */
export async function retryDelivery(db: Database, id: number): Promise<boolean> {
  const rows = await db.query(
    `update notice_deliveries set status = 'pending', attempts = 0, next_attempt_at = now(), locked_until = null, updated_at = now()
     where id = $1 and status = 'failed' returning id`,
    [id],
  );
  if (rows.length > 0) await db.query(`select pg_notify('${NOTICE_CHANNEL}', '')`);
  return rows.length > 0;
}

/** Remove finished deliveries older than the retention (the hourly clean-up may call this). */
export async function cleanupDeliveries(db: Database, retentionDays: number): Promise<number> {
  const rows = await db.query(
    `delete from notice_deliveries where status in ('sent', 'failed') and updated_at < now() - make_interval(days => $1::int) returning id`,
    [retentionDays],
  );
  return rows.length;
}
