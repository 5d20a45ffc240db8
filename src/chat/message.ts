import { z } from 'zod';

/** Where a command came from. */
export type Source = 'http' | 'stream' | 'webhook' | 'cli';

/** One inbound robot message, the same whichever transport delivered it. */
export interface ChatMessage {
  source: Source;
  msgId: string;
  robotCode: string;
  msgType: string;
  /** The text typed (text.content, joined richText parts, or a voice message's recognition). */
  text: string;
  conversationId: string;
  conversationType: 'single' | 'group';
  conversationTitle?: string;
  senderId: string;
  senderStaffId?: string;
  senderNick?: string;
  sessionWebhook?: string;
  sessionWebhookExpiresAt?: number;
  createdAt: number;
}

const num = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

// Permissive: unknown fields pass, only what we use is checked.
const payload = z.looseObject({
  msgId: z.string().min(1),
  msgtype: z.string().default('text'),
  text: z.looseObject({ content: z.string().default('') }).optional(),
  content: z
    .looseObject({
      richText: z.array(z.looseObject({ text: z.string().optional() })).optional(),
      recognition: z.string().optional(),
    })
    .optional(),
  conversationId: z.string().min(1),
  conversationType: z.union([z.string(), z.number()]).transform(String).default('2'),
  conversationTitle: z.string().optional(),
  senderId: z.string().min(1),
  senderStaffId: z.string().optional(),
  senderNick: z.string().optional(),
  robotCode: z.string().optional(),
  sessionWebhook: z.string().optional(),
  sessionWebhookExpiredTime: num.optional(),
  createAt: num.optional(),
});

/**
 * Normalise a robot callback body (HTTP or the Stream frame's `data`) into a ChatMessage.
 * Returns an error string instead of throwing when required fields are missing.
 */
export function parseRobotPayload(
  body: unknown,
  source: Source,
  defaults: { robotCode: string; nowMs: number },
): { ok: true; message: ChatMessage } | { ok: false; error: string; field: string } {
  const r = payload.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i?.path.join('.') || 'body';
    return { ok: false, error: `${field}: ${i?.message ?? 'invalid'}`, field };
  }
  const p = r.data;
  let text = '';
  if (p.msgtype === 'text') text = p.text?.content ?? '';
  else if (p.msgtype === 'richText') text = (p.content?.richText ?? []).map((x) => x.text ?? '').join('');
  else if (p.msgtype === 'audio') text = p.content?.recognition ?? '';
  return {
    ok: true,
    message: {
      source,
      msgId: p.msgId,
      robotCode: p.robotCode || defaults.robotCode,
      msgType: p.msgtype,
      text: text.trim(),
      conversationId: p.conversationId,
      conversationType: p.conversationType === '1' ? 'single' : 'group',
      conversationTitle: p.conversationTitle,
      senderId: p.senderId,
      senderStaffId: p.senderStaffId || undefined,
      senderNick: p.senderNick,
      sessionWebhook: p.sessionWebhook,
      sessionWebhookExpiresAt: p.sessionWebhookExpiredTime,
      createdAt: p.createAt ?? defaults.nowMs,
    },
  };
}
