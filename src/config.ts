import path from 'node:path';
import { z } from 'zod';

import { ROLES } from './lib/roles';

export { ROLES, type Role } from './lib/roles';

const list = z.string().transform((s) =>
  s
    .split(/[,，\s]+/)
    .map((x) => x.trim())
    .filter(Boolean),
);

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected a whole number between ${min} and ${max}` })
    .int({ error: `expected a whole number between ${min} and ${max}` })
    .min(min, { error: `expected a whole number between ${min} and ${max}` })
    .max(max, { error: `expected a whole number between ${min} and ${max}` });

const url = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { error: `expected a ${protocols.join('/')} URL` },
  );

const onOff = z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' });

/**
 * Every setting, with its default and an example shown when the value is invalid.
 * The README's variable table and `.env.example` list exactly these keys.
 */
const schema = z.object({
  PORT: int(0, 65535).default(3000), // 0 = any free port
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: url(['http', 'https']).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  DB_POOL_SIZE: int(1, 100).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOCALE: z.enum(['zh-CN', 'en'], { error: 'expected zh-CN or en' }).default('zh-CN'),

  DINGTALK_CLIENT_ID: z.string().min(1).optional(),
  DINGTALK_CLIENT_SECRET: z.string().min(1).optional(),
  DINGTALK_ROBOT_CODE: z.string().min(1).optional(),
  DINGTALK_STREAM: onOff.default('auto'),
  DINGTALK_API_BASE: url(['http', 'https']).default('https://api.dingtalk.com'),
  DINGTALK_REPLY_HOSTS: list.default([]),
  STREAM_PING_INTERVAL_MS: int(1000, 600_000).default(30_000),
  INBOUND_LEASE_MS: int(500, 600_000).default(30_000),

  ADMIN_STAFF_IDS: list.default([]),
  OPERATOR_STAFF_IDS: list.default([]),
  DEFAULT_ROLE: z.enum(ROLES, { error: 'expected viewer, operator or admin' }).default('operator'),
  RATE_LIMIT_PER_MINUTE: int(1, 10_000).default(30),

  RUN_JOBS: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  JOB_CONCURRENCY: int(1, 1000).default(4),
  JOB_POLL_INTERVAL_MS: int(50, 600_000).default(2000),
  JOB_LEASE_MS: int(2000, 3_600_000).default(30_000),
  JOB_SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(20_000),
  JOB_RETENTION_DAYS: int(1, 3650).default(30),
  PROGRESS_INTERVAL_MS: int(0, 600_000).default(5000),

  AMQP_URL: url(['amqp', 'amqps']).optional(),
  AMQP_QUEUE_MODE: z.enum(['declare', 'check'], { error: 'expected declare or check' }).default('declare'),
  AMQP_CONFIRM_WINDOW: int(1, 100_000).default(500),
  AMQP_APP_ID: z.string().min(1).default('chatops-bot'),
  PUSH_ALLOWED_QUEUES: list.optional(),
  PUSH_EXTRA_QUEUES: list.default([]),
  PUSH_MAX_COUNT: int(1, 10_000_000).default(100_000),
  AMQP_RECONNECT_BUDGET_MS: int(0, 3_600_000).default(60_000),

  DIAGNOSIS_MODELS: z.string().min(1).optional(),
  DIAGNOSIS_MODELS_FILE: z.string().min(1).optional(),
  DIAGNOSIS_CONCURRENCY: int(1, 1000).default(20),
  DIAGNOSIS_SOFT_TIMEOUT_MS: int(1000, 86_400_000).default(540_000),
  DIAGNOSIS_HARD_TIMEOUT_MS: int(1000, 86_400_000).default(600_000),
  DIAGNOSIS_API_RATE_LIMITS: z
    .string()
    .regex(/^\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*$/, { error: 'expected four whole numbers: submit,status,cancel,statistics' })
    .default('3,30,5,10')
    .transform((s) => {
      const [submit = 3, status = 30, cancel = 5, statistics = 10] = s.split(',').map((x) => Number(x.trim()));
      return { submit, status, cancel, statistics };
    }),
  FILES_DIR: z.string().min(1).optional(),
  FILES_TTL_HOURS: int(1, 24 * 365).default(168),
  SECRETS_KEY: z.string().min(1).optional(),

  DINGTALK_OAPI_BASE: z
    .string()
    .refine(isOapiBase, {
      error: 'expected https:// on a DingTalk host (oapi.dingtalk.com, oapi.dingtalk.io), or http://127.0.0.1:<port> for a local stand-in',
    })
    .transform((s) => s.replace(/\/+$/, ''))
    .default('https://oapi.dingtalk.com'),
  NOTICE_MAX_ATTEMPTS: int(1, 100).default(8),
  NOTICE_ROBOT_PER_MINUTE: int(1, 20).default(20),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: int(1, 65535).default(465),
  SMTP_SECURE: onOff.default('auto'),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_FROM: z.string().min(3).optional(),
  SMTP_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  SMTP_MAX_ATTACHMENT_BYTES: int(0, 1_073_741_824).default(26_214_400),
});

const examples: Record<keyof z.input<typeof schema>, string> = {
  PORT: '3000',
  HOST: '0.0.0.0',
  PUBLIC_URL: 'https://bot.example.com',
  DATA_DIR: './data',
  DATABASE_URL: 'postgres://user:pass@127.0.0.1:5432/chatops',
  DB_POOL_SIZE: '10',
  LOG_LEVEL: 'info',
  LOCALE: 'zh-CN',
  DINGTALK_CLIENT_ID: 'dingxxxxxxxxxxxx',
  DINGTALK_CLIENT_SECRET: '(the app secret from the DingTalk console)',
  DINGTALK_ROBOT_CODE: 'dingxxxxxxxxxxxx',
  DINGTALK_STREAM: 'auto',
  DINGTALK_API_BASE: 'https://api.dingtalk.com',
  DINGTALK_REPLY_HOSTS: 'gateway.example.com,127.0.0.1:8080',
  STREAM_PING_INTERVAL_MS: '30000',
  INBOUND_LEASE_MS: '30000',
  ADMIN_STAFF_IDS: 'manager807,0420',
  OPERATOR_STAFF_IDS: 'tester01,tester02',
  DEFAULT_ROLE: 'operator',
  RATE_LIMIT_PER_MINUTE: '30',
  RUN_JOBS: 'true',
  JOB_CONCURRENCY: '4',
  JOB_POLL_INTERVAL_MS: '2000',
  JOB_LEASE_MS: '30000',
  JOB_SHUTDOWN_GRACE_MS: '20000',
  JOB_RETENTION_DAYS: '30',
  PROGRESS_INTERVAL_MS: '5000',
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672/%2F',
  AMQP_QUEUE_MODE: 'declare',
  AMQP_CONFIRM_WINDOW: '500',
  AMQP_APP_ID: 'chatops-bot',
  PUSH_ALLOWED_QUEUES: 'oms_return_order_download_queue,test_*',
  PUSH_EXTRA_QUEUES: 'uat_refund_queue,test_*',
  PUSH_MAX_COUNT: '100000',
  AMQP_RECONNECT_BUDGET_MS: '60000',
  DIAGNOSIS_MODELS: '{"doubao":{"baseUrl":"https://ark.cn-beijing.volces.com/api/v3","model":"doubao-1-5-pro-32k-250115","apiKey":"…"}}',
  DIAGNOSIS_MODELS_FILE: './models.json',
  DIAGNOSIS_CONCURRENCY: '20',
  DIAGNOSIS_SOFT_TIMEOUT_MS: '540000',
  DIAGNOSIS_HARD_TIMEOUT_MS: '600000',
  DIAGNOSIS_API_RATE_LIMITS: '3,30,5,10',
  FILES_DIR: './data/files',
  FILES_TTL_HOURS: '168',
  SECRETS_KEY: '(32 random bytes, base64: openssl rand -base64 32)',
  DINGTALK_OAPI_BASE: 'https://oapi.dingtalk.com',
  NOTICE_MAX_ATTEMPTS: '8',
  NOTICE_ROBOT_PER_MINUTE: '20',
  SMTP_HOST: 'smtp.exmail.qq.com',
  SMTP_PORT: '465',
  SMTP_SECURE: 'auto',
  SMTP_USER: 'bot@example.com',
  SMTP_PASSWORD: '(the mailbox or app password)',
  SMTP_FROM: '"数据导出" <bot@example.com>',
  SMTP_TIMEOUT_MS: '60000',
  SMTP_MAX_ATTACHMENT_BYTES: '26214400',
};

type Parsed = z.output<typeof schema>;

/** The typed, frozen configuration the whole process runs on. */
export type Config = Readonly<
  Parsed & {
    PUBLIC_URL: string;
    /** Where stored files (exports, reports) live: FILES_DIR, else DATA_DIR/files. */
    FILES_DIR: string;
    /** Stream mode runs: credentials present and DINGTALK_STREAM is not off. */
    streamEnabled: boolean;
    /** The robot code used for dedupe and OpenAPI sends (DINGTALK_ROBOT_CODE, else the client id). */
    robotCode: string;
  }
>;

/** Raised when the environment holds invalid settings; `problems` lists every one. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parse settings from an environment map (process.env in main, a literal in tests).
 * Empty strings count as unset. Throws ConfigError listing every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') input[key] = v.trim();
  }
  const parsed = schema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]) as keyof typeof examples;
      const got = input[key] === undefined ? '' : ` (got "${redact(key, input[key])}")`;
      problems.push(`${key}: ${issue.message}${got}; example: ${key}=${examples[key]}`);
    }
  }
  // Cross-variable rules, checked on the raw values so they are reported with the rest.
  const hasId = Boolean(input.DINGTALK_CLIENT_ID);
  const hasSecret = Boolean(input.DINGTALK_CLIENT_SECRET);
  if (input.DINGTALK_STREAM === 'on' && !(hasId && hasSecret)) {
    problems.push('DINGTALK_STREAM: "on" needs DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET; set both, or DINGTALK_STREAM=auto');
  }
  if (hasId && !hasSecret) {
    problems.push('DINGTALK_CLIENT_SECRET: missing while DINGTALK_CLIENT_ID is set; set the app secret from the DingTalk console');
  }
  if (input.SMTP_HOST && !input.SMTP_FROM && !input.SMTP_USER) {
    problems.push('SMTP_FROM: missing while SMTP_HOST is set; set the sender address, e.g. SMTP_FROM=bot@example.com (or SMTP_USER)');
  }
  if (input.SMTP_USER && !input.SMTP_PASSWORD) {
    problems.push('SMTP_PASSWORD: missing while SMTP_USER is set; set the mailbox (or app) password');
  }
  const c = parsed.success ? parsed.data : undefined;
  if (problems.length > 0 || !c) throw new ConfigError(problems);
  return Object.freeze({
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    FILES_DIR: c.FILES_DIR ?? path.join(c.DATA_DIR, 'files'),
    streamEnabled: c.DINGTALK_STREAM !== 'off' && Boolean(c.DINGTALK_CLIENT_ID && c.DINGTALK_CLIENT_SECRET),
    robotCode: c.DINGTALK_ROBOT_CODE ?? c.DINGTALK_CLIENT_ID ?? 'local',
  });
}

/** DingTalk's legacy API host over https, or a loopback stand-in (tests, a local proxy). */
function isOapiBase(s: string): boolean {
  try {
    const u = new URL(s);
    if (u.pathname !== '/' || u.search || u.username) return false;
    if (u.protocol === 'https:' && /(^|\.)dingtalk\.(com|io)$/.test(u.hostname)) return true;
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

function redact(key: string, value: string | undefined): string {
  if (value === undefined) return '';
  if (/SECRET|PASSWORD|KEY|DIAGNOSIS_MODELS$/.test(key)) return '***';
  return value.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

/** Names of all settings, for the README/.env.example consistency test. */
export const CONFIG_KEYS = Object.keys(schema.shape);
