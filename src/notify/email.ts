import { stat } from 'node:fs/promises';
import type { Config } from '../config';

/** One e-mail to send: the rendered notice, and a file to attach when it is small enough. */
export interface EmailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** A stable Message-ID (the delivery id), so a resent mail is recognisably the same mail. */
  messageId: string;
  attachment?: { path: string; filename: string };
  /** This target's own attachment limit (the smaller of it and SMTP_MAX_ATTACHMENT_BYTES applies). */
  attachUpToBytes?: number;
}

/** Sends e-mail; `close` releases the SMTP connection. */
export interface EmailSender {
  send(m: EmailMessage): Promise<{ attached: boolean }>;
  close(): void;
}

/** Why a send failed: `temporary` (4xx, network) is retried, the rest is final. */
export class EmailError extends Error {
  constructor(
    message: string,
    readonly temporary: boolean,
  ) {
    super(message);
    this.name = 'EmailError';
  }
}

type SmtpConfig = Pick<
  Config,
  'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD' | 'SMTP_FROM' | 'SMTP_TIMEOUT_MS' | 'SMTP_MAX_ATTACHMENT_BYTES'
>;

/**
 * An SMTP sender over nodemailer, imported on first use so a bot without e-mail never loads it.
 * Without SMTP_HOST every send fails (finally) saying what to set.
 */
export function createEmailSender(config: SmtpConfig): EmailSender {
  let transport: Promise<import('nodemailer').Transporter> | undefined;
  const open = () => {
    transport ??= import('nodemailer').then((mod) => {
      const nodemailer = (mod as unknown as { default?: typeof mod }).default ?? mod;
      const secure = config.SMTP_SECURE === 'on' || (config.SMTP_SECURE === 'auto' && config.SMTP_PORT === 465);
      // A small pool: a burst of notices reuses connections instead of a handshake per mail.
      return nodemailer.createTransport({
        pool: true,
        maxConnections: 3,
        host: config.SMTP_HOST,
        port: config.SMTP_PORT,
        secure,
        ignoreTLS: config.SMTP_SECURE === 'off',
        auth: config.SMTP_USER ? { user: config.SMTP_USER, pass: config.SMTP_PASSWORD ?? '' } : undefined,
        connectionTimeout: config.SMTP_TIMEOUT_MS,
        greetingTimeout: config.SMTP_TIMEOUT_MS,
        socketTimeout: config.SMTP_TIMEOUT_MS,
      });
    });
    return transport;
  };
  return {
    async send(m) {
      if (!config.SMTP_HOST)
        throw new EmailError('SMTP_HOST is not set: e-mail notices need an SMTP server (SMTP_HOST, SMTP_USER, SMTP_PASSWORD)', false);
      const attach =
        m.attachment &&
        (await fits(m.attachment.path, Math.min(config.SMTP_MAX_ATTACHMENT_BYTES, m.attachUpToBytes ?? Number.POSITIVE_INFINITY)));
      const t = await open();
      try {
        await t.sendMail({
          from: config.SMTP_FROM ?? config.SMTP_USER,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
          attachments: attach && m.attachment ? [{ filename: m.attachment.filename, path: m.attachment.path }] : [],
        });
      } catch (err) {
        throw toEmailError(err);
      }
      return { attached: Boolean(attach) };
    },
    close() {
      void transport?.then((t) => t.close()).catch(() => {});
    },
  };
}

async function fits(path: string, max: number): Promise<boolean> {
  try {
    return (await stat(path)).size <= max;
  } catch {
    return false; // gone (expired, removed): the link in the text is all we can give
  }
}

/** SMTP 4xx and connection problems are temporary; 5xx (bad recipient, refused) are final. */
export function toEmailError(err: unknown): EmailError {
  const e = err as { message?: string; responseCode?: number; code?: string; response?: string };
  const code = e.responseCode;
  const text = `${code ? `${code} ` : ''}${e.response ?? e.message ?? String(err)}`.slice(0, 500);
  if (typeof code === 'number') return new EmailError(text, code >= 400 && code < 500);
  if (e.code === 'EAUTH' || e.code === 'EENVELOPE') return new EmailError(text, false);
  return new EmailError(text, true);
}
