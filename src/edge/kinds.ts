import type { ChatMessage } from '../chat/message';
import type { HookCommand } from '../http/hooks';

/** Job kind: a chat message the Worker recorded and queued; a Node instance dispatches it. */
export const QUEUED_CHAT_KIND = 'chat_message';
/** Job kind: a webhook command the Worker accepted; a Node instance runs it. */
export const QUEUED_COMMAND_KIND = 'webhook_command';

/** Attempts for the queued kinds: a busy or unreachable instance gets a few tries. */
export const QUEUED_MAX_ATTEMPTS = 5;

/** Payload of a queued chat message: its inbound row and the message as the Worker parsed it. */
export interface QueuedChatPayload {
  inboundId: number;
  message: ChatMessage;
}

/** Payload of a queued webhook command: the call as the Node route would have read it. */
export type QueuedCommandPayload = HookCommand;
