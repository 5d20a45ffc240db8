import type { CommandContext } from '../src/chat/define-command';
import { UserError } from '../src/errors';
import type { ExportPayload } from '../src/exports/export-job';
import { prepareExport } from '../src/exports/submit-export';
import { PUSH_KIND, type PushPayload } from '../src/push/push-job';
import { validatePush } from '../src/push/submit-push';
import { EXPORT_KIND } from '../src/schedules/payloads';

/** What a schedule runs: a job kind and the payload its handler takes. */
export interface PlannedKind {
  kind: string;
  payload: Record<string, unknown>;
}

const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Turn `<kind> [what] key=value …` typed after `/schedule add … ` into a job kind and payload, with the
 * same checks the kind's own command makes. Kinds without a chat form take the key=values as payload.
 */
export async function planKind(
  ctx: CommandContext,
  word: string,
  what: string | undefined,
  params: Record<string, unknown>,
): Promise<PlannedKind> {
  const { deps } = ctx;
  const w = word.toLowerCase();
  if (['cleanup', '清理', 'jobs_cleanup'].includes(w)) {
    const days = params.days === undefined ? deps.config.JOB_RETENTION_DAYS : Number(params.days);
    if (!Number.isInteger(days) || days < 1)
      throw new UserError('bad_args', 'schedule.badParam', { field: 'days', value: asText(params.days) }, 'days');
    return { kind: 'jobs_cleanup', payload: { olderThanDays: days } };
  }
  if (['push', '推送', PUSH_KIND].includes(w)) {
    if (!what) throw new UserError('bad_args', 'schedule.needWhat', { kind: 'push', example: 'refund' }, 'what');
    const { sku, count, queue, ...rest } = params as { sku?: unknown; count?: unknown; queue?: string };
    const overrides = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, asText(v)]));
    const { spec } = validatePush(deps, {
      type: what,
      overrides,
      items: sku,
      count: count === undefined ? undefined : Number(count),
      queue,
    });
    const payload: PushPayload = { spec, requestedBy: ctx.caller.key, requestedByName: ctx.caller.nick };
    return { kind: PUSH_KIND, payload: payload as unknown as Record<string, unknown> };
  }
  if (['export', '导出', EXPORT_KIND].includes(w)) {
    if (!what) throw new UserError('bad_args', 'schedule.needWhat', { kind: 'export', example: 'daily-orders' }, 'what');
    // Checked as /export run checks it (task, permission, parameters); relative dates are bound at each fire.
    const typed = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, asText(v)]));
    const { task, values } = await prepareExport(ctx.deps, what, typed, ctx.caller);
    const payload: ExportPayload = { task: task.name, values, typed };
    return { kind: EXPORT_KIND, payload: payload as unknown as Record<string, unknown> };
  }
  // Any other registered kind: the arguments are its payload.
  return { kind: w, payload: what === undefined ? { ...params } : { task: what, ...params } };
}
