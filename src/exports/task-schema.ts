import { z } from 'zod';
import { bindNamed } from './named-params';
import { PARAM_TYPES } from './params';

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const zoneOk = (z: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: z });
    return true;
  } catch {
    return false;
  }
};

/** A delivery target as typed (secrets in the clear; they are sealed before storage). */
export const targetInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('requester') }).strict(),
  z
    .object({ type: z.literal('group'), conversationId: z.string().min(1, { error: 'expected the group conversation id (cid…)' }) })
    .strict(),
  z
    .object({
      type: z.literal('robot'),
      webhook: z.url({ error: 'expected the robot webhook URL, e.g. https://oapi.dingtalk.com/robot/send?access_token=…' }),
      secret: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('email'),
      to: z.array(z.email({ error: 'expected an e-mail address, e.g. ops@example.com' })).min(1),
      attachUpToBytes: z.number().int().min(0).optional(),
    })
    .strict(),
]);
export type TargetInput = z.infer<typeof targetInput>;

/** A stored target: robot webhook and secret sealed with the secrets key. */
export type StoredTarget =
  | { type: 'requester' }
  | { type: 'group'; conversationId: string }
  | { type: 'robot'; webhookEnc: string; secretEnc?: string; label: string }
  | { type: 'email'; to: string[]; attachUpToBytes?: number };

/** An export task as an admin defines it (CLI JSON file or webhook body). */
export const taskInput = z
  .object({
    name: z.string().regex(NAME, { error: 'expected lower-case letters, digits, "-" or "_", e.g. daily-orders' }),
    title: z.string().max(100).optional(),
    description: z.string().max(500).optional(),
    source: z.string().min(1, { error: 'expected a data source name (npm run cli -- source list), e.g. app' }),
    sql: z.string().min(1, { error: 'expected the SELECT statement' }),
    params: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a parameter name like date' }),
            type: z.enum(PARAM_TYPES, { error: `expected one of ${PARAM_TYPES.join(', ')}` }).default('string'),
            default: z.string().optional(),
            required: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    timezone: z.string().default('Asia/Shanghai').refine(zoneOk, { error: 'expected an IANA time zone, e.g. Asia/Shanghai' }),
    fileName: z.string().min(1).max(120).default('{task}_{date}'),
    sheet: z
      .string()
      .min(1)
      .max(31)
      .regex(/^[^[\]:*?/\\]+$/, { error: 'expected a sheet name of up to 31 characters without [ ] : * ? / \\' })
      .default('Sheet1'),
    format: z.enum(['xlsx', 'csv'], { error: 'expected xlsx or csv' }).default('xlsx'),
    rowLimit: z.number().int().min(1).max(50_000_000).default(1_000_000),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(6 * 3_600_000)
      .default(300_000),
    /** Who may run it: roles (viewer, operator, admin) or staff ids. Empty = operators and admins. */
    allowed: z.array(z.string().min(1)).default([]),
    notice: z.string().max(2000).optional(),
    targets: z.array(targetInput).default([{ type: 'requester' }]),
  })
  .strict()
  .superRefine((t, ctx) => {
    const used = bindNamed(t.sql, 'postgres').names;
    const declared = new Set(t.params.map((p) => p.name));
    for (const n of used) {
      if (!declared.has(n))
        ctx.addIssue({
          code: 'custom',
          path: ['params'],
          message: `the SQL uses :${n}; declare it in params, e.g. {"name":"${n}","type":"date","default":"yesterday"}`,
        });
    }
  });
export type TaskInput = z.input<typeof taskInput>;

/** A stored, validated task. */
export type TaskSpec = Omit<z.output<typeof taskInput>, 'targets'> & { targets: StoredTarget[] };
