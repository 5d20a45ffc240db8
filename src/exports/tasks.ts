import type { Database } from '../db/client';
import type { Caller } from '../lib/roles';
import { hasRole } from '../lib/roles';
import { parseNoticeTemplate, parseRobotWebhook } from '../notify';
import type { SecretBox } from './secret-box';
import { type StoredTarget, type TargetInput, type TaskInput, type TaskSpec, taskInput } from './task-schema';

/** A stored task with its row metadata. */
export interface ExportTask extends TaskSpec {
  id: number;
  createdBy: string | null;
  updatedAt: Date;
}

/** A task of that name exists and replace was not asked for. */
export class TaskExistsError extends Error {
  constructor(readonly taskName: string) {
    super(`an export task named "${taskName}" already exists; use --replace (CLI) or PUT (webhook) to change it`);
    this.name = 'TaskExistsError';
  }
}

/** Seal a target's secrets (robot webhook URL and signing secret) for storage. */
export function sealTarget(t: TargetInput, secrets: SecretBox): StoredTarget {
  if (t.type !== 'robot') return t;
  const token = new URL(t.webhook).searchParams.get('access_token') ?? '';
  return {
    type: 'robot',
    webhookEnc: secrets.encrypt(t.webhook),
    secretEnc: t.secret ? secrets.encrypt(t.secret) : undefined,
    label: `robot …${token.slice(-4)}`,
  };
}

/** Validate and store a task (source existence is checked by the caller). */
export async function saveTask(
  deps: { db: Database; secrets: SecretBox; config: { DINGTALK_OAPI_BASE: string } },
  input: TaskInput,
  by: string,
  replace = false,
): Promise<{ created: boolean; task: TaskSpec }> {
  const parsed = taskInput.parse(input);
  // Checked now, not at the first run: the template's variables and each robot's webhook host.
  if (parsed.notice !== undefined) parseNoticeTemplate(parsed.notice);
  for (const t of parsed.targets) if (t.type === 'robot') parseRobotWebhook(t.webhook, deps.config.DINGTALK_OAPI_BASE);
  const spec: TaskSpec = { ...parsed, targets: parsed.targets.map((t) => sealTarget(t, deps.secrets)) };
  const rows = await deps.db.query<{ created: boolean }>(
    `insert into export_tasks (name, spec, created_by) values ($1, $2::jsonb, $3)
     on conflict (name) do update set spec = excluded.spec, updated_at = now() where $4::boolean
     returning (xmax = 0) as created`,
    [spec.name, JSON.stringify(spec), by, replace],
  );
  if (rows.length === 0) throw new TaskExistsError(spec.name);
  return { created: Boolean(rows[0]?.created), task: spec };
}

/** Every task, by name. */
export async function listTasks(db: Database): Promise<ExportTask[]> {
  const rows = await db.query<Record<string, unknown>>(`select * from export_tasks order by name`);
  return rows.map(toTask);
}

/** One task by name, or undefined. */
export async function getTask(db: Database, name: string): Promise<ExportTask | undefined> {
  const [r] = await db.query<Record<string, unknown>>(`select * from export_tasks where name = $1`, [name]);
  return r ? toTask(r) : undefined;
}

/** Remove a task; false when there was none. */
export async function removeTask(db: Database, name: string): Promise<boolean> {
  return (await db.query(`delete from export_tasks where name = $1 returning id`, [name])).length > 0;
}

/** Whether `caller` may run the task: a listed staff id or role, or (nothing listed) operator and up. Admins always. */
export function mayRun(task: Pick<TaskSpec, 'allowed'>, caller: Caller): boolean {
  if (caller.role === 'admin') return true;
  if (task.allowed.length === 0) return hasRole(caller.role, 'operator');
  return task.allowed.some(
    (a) => a === caller.key || a === caller.staffId || ((a === 'viewer' || a === 'operator' || a === 'admin') && hasRole(caller.role, a)),
  );
}

/** The task as shown to users and admins: secrets replaced by a label. */
export function describeTargets(task: Pick<TaskSpec, 'targets'>): string[] {
  return task.targets.map((t) => {
    if (t.type === 'robot') return t.label;
    if (t.type === 'group') return `group ${t.conversationId}`;
    if (t.type === 'email') return `email ${t.to.join(', ')}`;
    return 'requester';
  });
}

function toTask(r: Record<string, unknown>): ExportTask {
  const spec = (typeof r.spec === 'string' ? JSON.parse(r.spec) : r.spec) as TaskSpec;
  return { ...spec, id: Number(r.id), createdBy: (r.created_by as string) ?? null, updatedAt: new Date(r.updated_at as Date) };
}
