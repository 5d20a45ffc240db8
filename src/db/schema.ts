import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/**
 * Every command that reached us (chat, webhook, CLI): the dedupe key for redelivered chat
 * messages (unique robot_code + msg_id) and the audit trail (who, where, what, outcome).
 */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    source: text('source').notNull(), // http | stream | webhook | cli
    robotCode: text('robot_code').notNull(),
    msgId: text('msg_id').notNull(),
    conversationId: text('conversation_id'),
    conversationType: text('conversation_type'),
    senderId: text('sender_id'),
    senderStaffId: text('sender_staff_id'),
    senderNick: text('sender_nick'),
    text: text('text').notNull(),
    command: text('command'),
    args: jsonb('args'),
    outcome: text('outcome').notNull().default('received'), // received | ok | <error code>
    error: text('error'),
    jobId: bigint('job_id', { mode: 'number' }),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** Lease of the process handling it (refreshed while it runs); a stale `received` row is taken over. */
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull().defaultNow(),
    /** How many times handling started (first delivery, redeliveries and sweeps that took it over). */
    attempts: integer('attempts').notNull().default(1),
    /** The normalised chat message (reply target included), so a sweep can run it again. */
    message: jsonb('message'),
    /** Webhook calls: SHA-256 of method, path and body; a repeated key with another body is refused. */
    requestHash: text('request_hash'),
    /** Webhook calls: the answer given (status and JSON body), replayed to a repeated Idempotency-Key. */
    response: jsonb('response'),
  },
  (t) => [
    uniqueIndex('inbound_messages_msg_uq').on(t.robotCode, t.msgId),
    index('inbound_messages_created_idx').on(t.createdAt),
    index('inbound_messages_unfinished_idx').on(t.claimedAt).where(sql`outcome = 'received'`),
  ],
);

/** Bearer tokens for the admin webhooks; only a SHA-256 of the token is stored. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    role: text('role').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('api_tokens_hash_uq').on(t.tokenHash),
    // A name is unique among live tokens; a revoked name can be issued again.
    uniqueIndex('api_tokens_name_live_uq').on(t.name).where(sql`revoked_at is null`),
  ],
);

/** Fixed-window request counters per key (user + window), shared by every instance. */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
  count: integer('count').notNull(),
});

/** Job states. `queued` and `running` are unfinished; the other three are final. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The job queue and its record in one table: claimed with FOR UPDATE SKIP LOCKED, leased with a
 * heartbeat, kept after it finishes (status, result, links) until the retention period ends.
 *
 * Index predicates use purpose-built columns (`ready`, `active_key`, `notify_next_at`) that a
 * successful completion leaves unchanged, and `status` is not indexed: so completing a job is a
 * HOT update that touches no index (fillfactor 70 leaves room on the page; see 0002 migration).
 */
export const jobs = pgTable(
  'jobs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind').notNull(),
    status: text('status').$type<JobStatus>().notNull().default('queued'),
    /** True while the job waits in the queue (status queued); the claim index covers only these rows. */
    ready: boolean('ready').notNull().default(true),
    priority: integer('priority').notNull().default(0),
    payload: jsonb('payload').notNull().default({}),
    result: jsonb('result'),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    progress: integer('progress').notNull().default(0),
    progressText: text('progress_text'),
    softTimeoutMs: integer('soft_timeout_ms'),
    hardTimeoutMs: integer('hard_timeout_ms'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    dedupeKey: text('dedupe_key'),
    /** The dedupe key while the job is unfinished (unique); cleared when it finishes. */
    activeKey: text('active_key'),
    scheduleId: bigint('schedule_id', { mode: 'number' }),
    requestedBy: text('requested_by'),
    replyTo: jsonb('reply_to'),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    attemptStartedAt: timestamp('attempt_started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** Time spent running, summed over the attempts that ended (idle time between attempts excluded). */
    runMs: bigint('run_ms', { mode: 'number' }).notNull().default(0),
    /** What chat may say about `error` (a catalog code, or the log reference of an unknown error); see src/jobs/job-error.ts. */
    errorInfo: jsonb('error_info'),
    // Final chat message: delivered at, tries so far, next try (null = nothing left to deliver).
    notifiedAt: timestamp('notified_at', { withTimezone: true }),
    notifyAttempts: integer('notify_attempts').notNull().default(0),
    notifyNextAt: timestamp('notify_next_at', { withTimezone: true }),
  },
  (t) => [
    index('jobs_queue_idx').on(t.kind, t.priority.desc(), t.runAt, t.id).where(sql`ready`),
    uniqueIndex('jobs_active_key_uq').on(t.activeKey).where(sql`active_key is not null`),
    index('jobs_notify_idx').on(t.notifyNextAt).where(sql`notify_next_at is not null`),
    // No index on requested_by/finished_at/lease: each would be written on every claim. "My jobs",
    // stats and the reaper scan instead; retention keeps the table small.
  ],
);

/** The per-job structured log: state changes beyond the row's own timestamps, progress, warnings. */
export const jobEvents = pgTable(
  'job_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    jobId: bigint('job_id', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    type: text('type').notNull(),
    message: text('message'),
    data: jsonb('data'),
  },
  (t) => [index('job_events_job_idx').on(t.jobId, t.id)],
);

/**
 * Counters behind generated order numbers. A push reserves a contiguous range in one UPDATE (row
 * lock), so numbers never collide across runs, users and instances sharing the database, and a
 * resumed push renders the same numbers again. Row `order_no` is the counter; row `install_tag`
 * (drawn on first use, src/push/order-numbers.ts) keeps two databases' numbers apart.
 */
export const pushCounters = pgTable('push_counters', {
  name: text('name').primaryKey(),
  value: bigint('value', { mode: 'number' }).notNull(),
});

/** Progress of one push job: its reserved numbers and how many messages the broker confirmed. */
export const pushRuns = pgTable('push_runs', {
  jobId: bigint('job_id', { mode: 'number' }).primaryKey(),
  seqStart: bigint('seq_start', { mode: 'number' }).notNull(),
  orderDate: text('order_date').notNull(),
  confirmed: integer('confirmed').notNull().default(0),
  /** Messages published again after a lost connection (possible duplicates, never losses). */
  republished: integer('republished').notNull().default(0),
  /**
   * The install's tag in this push's order numbers (src/push/order-numbers.ts); null for pushes
   * started before tags existed, which keep rendering as they did.
   */
  installTag: text('install_tag'),
  /** Messages handed to the broker so far (confirmed or not): what a retried attempt may repeat. */
  sent: integer('sent'),
  /** Of `republished`, those sent again by a retried attempt (the rest: after lost connections). */
  resentOnRetry: integer('resent_on_retry').notNull().default(0),
  firstOrderNo: text('first_order_no'),
  lastOrderNo: text('last_order_no'),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Saved push arguments (`/template save`), used as `/push @name`. */
export const pushTemplates = pgTable(
  'push_templates',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    type: text('type').notNull(),
    /** The arguments as typed (short names or paths -> text), sku and count included. */
    args: jsonb('args').$type<Record<string, string>>().notNull(),
    owner: text('owner').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('push_templates_name_uq').on(t.name)],
);

/**
 * Each model × question call of a brand diagnosis, stored as it ends: a retried or taken-over job
 * makes only the calls without an answer (ok = false rows are tried again). Goes with its job.
 */
export const diagnosisAnswers = pgTable(
  'diagnosis_answers',
  {
    jobId: bigint('job_id', { mode: 'number' })
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    questionIndex: integer('question_index').notNull(),
    ok: boolean('ok').notNull(),
    text: text('text'),
    error: text('error'),
    latencyMs: integer('latency_ms'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    /** The model version the response named. */
    modelVersion: text('model_version'),
    tries: integer('tries').notNull().default(1),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.model, t.questionIndex] }), index('diagnosis_answers_model_idx').on(t.model, t.createdAt)],
);

/**
 * Files the bot produced (exports, reports), kept under FILES_DIR and served by signed links until
 * `expires_at`; the clean-up job deletes the bytes and sets `removed_at` (the row stays for history).
 */
export const files = pgTable(
  'files',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    jobId: bigint('job_id', { mode: 'number' }),
    name: text('name').notNull(),
    /** Path relative to FILES_DIR. */
    storedAs: text('stored_as').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    rows: bigint('rows', { mode: 'number' }),
    sha256: text('sha256').notNull(),
    contentType: text('content_type').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    removedAt: timestamp('removed_at', { withTimezone: true }),
  },
  (t) => [index('files_job_idx').on(t.jobId), index('files_expiry_idx').on(t.expiresAt).where(sql`removed_at is null`)],
);

/** External databases exports read from; the password is sealed with the secrets key (never plain). */
export const dataSources = pgTable(
  'data_sources',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    kind: text('kind').notNull(), // postgres | mysql
    host: text('host').notNull(),
    port: integer('port').notNull(),
    database: text('database').notNull(),
    username: text('username').notNull(),
    /** `v1.<keyId>.<iv>.<tag>.<ciphertext>` (AES-256-GCM), or null for no password. */
    passwordEnc: text('password_enc'),
    /** Fingerprint of the key that sealed the password: a changed key is caught at start-up. */
    keyId: text('key_id'),
    options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('data_sources_name_uq').on(t.name)],
);

/** Named, parameterised SQL exports (the definition; every run is a job). */
export const exportTasks = pgTable(
  'export_tasks',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    /** The whole definition as validated by src/exports/task-schema.ts. */
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('export_tasks_name_uq').on(t.name)],
);

/** Delivery states of a notice: waiting (or due again), being sent, delivered, given up. */
export const NOTICE_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

/**
 * The notice outbox: one row per (notice, target), written in the same transaction as the result
 * where the caller can, sent by a loop on any instance (claimed with SKIP LOCKED, leased), retried
 * with backoff, and kept with its final state so a failed delivery stays visible.
 */
export const noticeDeliveries = pgTable(
  'notice_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    jobId: bigint('job_id', { mode: 'number' }),
    /** robot | conversation | group | email */
    channel: text('channel').notNull(),
    /** The resolved target; robot credentials stay sealed by the SecretBox. */
    target: jsonb('target').notNull(),
    /** The rendered notice: title, markdown, text, html, optional attachment. */
    message: jsonb('message').notNull(),
    /** Where to announce a final failure (the requester's conversation), if anywhere. */
    announceTo: jsonb('announce_to'),
    /** Enqueueing twice with the same key (a retried job) adds nothing. */
    dedupeKey: text('dedupe_key'),
    status: text('status').$type<NoticeStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(8),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('notice_deliveries_dedupe_uq').on(t.dedupeKey).where(sql`dedupe_key is not null`),
    index('notice_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status in ('pending', 'sending')`),
    index('notice_deliveries_job_idx').on(t.jobId),
  ],
);

/**
 * Per custom robot (keyed by a hash of its token): send times within the last window and a block
 * after DingTalk said "too fast" (130101). Shared by every instance, updated in single statements.
 */
export const noticeRobotWindows = pgTable('notice_robot_windows', {
  robotKey: text('robot_key').primaryKey(),
  stamps: timestamp('stamps', { withTimezone: true }).array().notNull().default(sql`'{}'`),
  blockedUntil: timestamp('blocked_until', { withTimezone: true }),
  /** 130101 answers in a row (grows the block); reset by a success. */
  strikes: integer('strikes').notNull().default(0),
});
