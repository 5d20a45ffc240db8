/** A message the bot sends to a conversation (the subset DingTalk renders everywhere). */
export type OutMessage =
  | { type: 'text'; text: string }
  | { type: 'markdown'; title: string; text: string }
  | { type: 'actionCard'; title: string; text: string; buttons: { title: string; url: string }[] };

/**
 * Where later messages for a command go: the conversation, its temporary sessionWebhook while
 * valid, and what the robot OpenAPI needs once it has expired. Stored as JSON on jobs.
 */
export interface ReplyTarget {
  conversationId: string;
  conversationType: 'single' | 'group';
  robotCode?: string;
  sessionWebhook?: string;
  sessionWebhookExpiresAt?: number;
  /** The requester's staff id: 1:1 OpenAPI sends need it, group messages @-mention it. */
  staffId?: string;
}

/** Delivers messages to a reply target (sessionWebhook first, then the robot OpenAPI). */
export interface Notifier {
  send(target: ReplyTarget, message: OutMessage): Promise<void>;
}
