import pino, { type Logger } from 'pino';

/** The root logger (JSON lines on stdout). Secrets and callback bodies are never logged at info. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: 'chatops-bot' },
    redact: { paths: ['*.secret', '*.token', '*.clientSecret', '*.password', 'headers.authorization'], censor: '***' },
  });
}
