import type { Deps } from '../deps';
import { UserError } from '../errors';
import { submitJob } from '../jobs/submit';
import type { Job } from '../jobs/types';
import type { Caller } from '../lib/roles';
import type { ReplyTarget } from '../outbound';
import type { ExportPayload } from './export-job';
import { ParamError, RELATIVE_DATES, resolveParams } from './params';
import { getSourceInfo } from './sources';
import { type ExportTask, getTask, listTasks, mayRun } from './tasks';

type SubmitDeps = Pick<Deps, 'db' | 'config' | 'secrets' | 'now' | 'jobDefinitions' | 't'>;

/** An example `key=value` line for a task's parameters (shown in errors). */
export function paramExample(task: ExportTask): string {
  return task.params.map((p) => `${p.name}=${p.type === 'date' ? '2026-11-22' : p.type === 'int' ? '10' : (p.default ?? 'x')}`).join(' ');
}

/**
 * Find a task the caller may run and bind its parameters (relative dates resolved now, in the
 * task's zone). Every problem is a UserError naming the field and an example.
 */
export async function prepareExport(
  deps: SubmitDeps,
  taskName: string,
  typed: Record<string, string>,
  caller: Caller,
): Promise<{ task: ExportTask; values: ExportPayload['values'] }> {
  const task = await getTask(deps.db, taskName);
  if (!task) {
    const names = (await listTasks(deps.db)).map((t) => t.name);
    throw new UserError('not_found', 'export.unknownTask', { task: taskName, tasks: names.join(', ') || '-' }, 'task');
  }
  if (!mayRun(task, caller))
    throw new UserError('forbidden', 'export.forbidden', { task: task.name, allowed: task.allowed.join(', ') || 'operator' });
  if (!(await getSourceInfo({ ...deps }, task.source))) throw new UserError('not_found', 'export.unknownSource', { source: task.source });
  try {
    return { task, values: resolveParams(task.params, typed, deps.now(), task.timezone) };
  } catch (err) {
    if (!(err instanceof ParamError)) throw err;
    const expected = deps.t(`export.expect.${err.kind}`, {
      words: RELATIVE_DATES.join(', '),
      names: task.params.map((p) => p.name).join(', ') || '-',
    });
    throw new UserError(
      'bad_args',
      'export.badParam',
      { param: err.param, expected, got: err.got, task: task.name, example: paramExample(task) },
      err.param,
    );
  }
}

/** Validate and enqueue an export job for the caller; its final message goes to `replyTo`. */
export async function submitExport(
  deps: SubmitDeps,
  taskName: string,
  typed: Record<string, string>,
  caller: Caller,
  replyTo?: ReplyTarget,
): Promise<{ job: Job; task: ExportTask; values: ExportPayload['values'] }> {
  const { task, values } = await prepareExport(deps, taskName, typed, caller);
  const payload: ExportPayload = { task: task.name, values, typed };
  const { job } = await submitJob(deps.db, deps.jobDefinitions, {
    kind: 'sql_export',
    payload,
    requestedBy: caller.key,
    replyTo,
    hardTimeoutMs: Math.max(task.timeoutMs * 2 + 10 * 60_000, 30 * 60_000),
  });
  return { job, task, values };
}

/** `date=2026-11-22, store=12` for messages. */
export function formatValues(values: ExportPayload['values']): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${v ?? ''}`);
  return parts.join(', ') || '-';
}
