import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

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
  },
  (t) => [
    uniqueIndex('inbound_messages_msg_uq').on(t.robotCode, t.msgId),
    index('inbound_messages_created_idx').on(t.createdAt),
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
