import type { Config } from '../config';
import { PermanentJobError } from '../errors';
import { type FileDeps, filePath, getFile } from '../files';
import type { Translator } from '../i18n';
import { formatDuration, formatTime } from '../jobs/render';
import { defineJob, type JobHelpers } from '../jobs/types';
import { enqueueNotice, type NoticeFacts, noticeValues, parseNoticeTemplate, renderNotice } from '../notify';
import { SourceError } from './drivers/types';
import { runExport, UnknownSourceError } from './run-export';
import type { SecretBox } from './secret-box';
import type { StoredTarget, TaskSpec } from './task-schema';
import { getTask } from './tasks';

/** Payload of an export job: the task and its parameters, resolved when it was submitted. */
export interface ExportPayload {
  task: string;
  /** Values as bound (relative dates already resolved, so a retry exports the same day). */
  values: Record<string, string | number | boolean | null>;
  /** What the user typed, for history. */
  typed?: Record<string, string>;
}

/** What a finished export records on its job (history and the final message read it). */
export interface ExportResult {
  task: string;
  rows: number;
  size: number;
  sheets: number;
  truncated: boolean;
  durationMs: number;
  file: { id: number; name: string; url: string; expiresAt: string };
  /** The rendered notice (markdown): the final chat message's body in the requester's conversation. */
  message: string;
  /** Notice deliveries queued for the task's other targets (group robots, groups, e-mail). */
  notices: number;
}

type Env = { config: Config; t: Translator; secrets: SecretBox; callbackSecret: string; now?: () => number };

/** The export job kind: run the query into a file, then notices to the task's targets. */
export function createExportJob(env: Env) {
  const now = env.now ?? Date.now;
  return defineJob<ExportPayload, ExportResult>({
    kind: 'sql_export',
    concurrency: 2,
    maxAttempts: 2,
    hardTimeoutMs: 6 * 3_600_000,
    retry: { retryable: (err) => !(err instanceof SourceError) || err.code === 'unreachable' },
    async run(p, h) {
      const task = await getTask(h.db, p.task);
      if (!task) throw new PermanentJobError(`export task "${p.task}" no longer exists`);
      const deps: FileDeps & { secrets: SecretBox } = {
        config: env.config,
        db: h.db,
        callbackSecret: env.callbackSecret,
        now,
        secrets: env.secrets,
      };
      const estimate = await lastRowCount(h, p.task);
      const startedAt = now();
      const facts: NoticeFacts = {
        taskName: task.title ?? task.name,
        executedAt: startedAt,
        timeZone: task.timezone,
        outcome: 'succeeded',
        jobId: h.job.id,
        requester: h.job.requestedBy ?? undefined,
      };
      try {
        const out = await runExport(deps, task, p.values, {
          jobId: h.job.id,
          signal: h.signal,
          onProgress: (rows) => {
            // No row count is known in advance: the last run's count, else a curve that nears 99%.
            const pct = estimate ? (rows / estimate) * 100 : 99 * (1 - 1 / (1 + rows / 50_000));
            h.progress(Math.min(99, pct), env.t('export.progress', { rows: rows.toLocaleString('en-US') }));
          },
        });
        Object.assign(facts, {
          rows: out.rows,
          bytes: out.file.size,
          durationMs: out.durationMs,
          filename: out.file.name,
          downloadUrl: out.file.url,
        });
        facts.expiresAt = out.file.expiresAt.getTime();
        const t = env.t;
        const template = parseNoticeTemplate(task.notice ?? t('notify.template.succeeded'));
        const body = renderNotice(template, noticeValues(facts, t.locale), facts.taskName).markdown;
        // A task's own template may leave out the expiry or the duration: the requester still gets both.
        const uses = (v: string) => template.parts.some((p) => 'variable' in p && p.variable === v);
        const extra = [
          out.truncated ? t('export.notice.truncated', { limit: task.rowLimit }) : '',
          out.sheets > 1 ? t('export.notice.sheets', { sheets: out.sheets }) : '',
          uses('expires_at') ? '' : t('export.notice.expires', { expires: formatTime(out.file.expiresAt, task.timezone) }),
          uses('duration') ? '' : t('job.final.took', { took: formatDuration(out.durationMs, t) }),
        ].filter(Boolean);
        const rec = await getFile(h.db, out.file.id);
        const notices = await notifyTargets(env, h, task, facts, rec ? { path: filePath(deps, rec), filename: rec.name } : undefined);
        return {
          task: task.name,
          rows: out.rows,
          size: out.file.size,
          sheets: out.sheets,
          truncated: out.truncated,
          durationMs: Math.round(out.durationMs),
          file: { id: out.file.id, name: out.file.name, url: out.file.url, expiresAt: out.file.expiresAt.toISOString() },
          message: [body, ...extra].join('\n\n'),
          notices,
        };
      } catch (err) {
        const permanent =
          err instanceof PermanentJobError ||
          err instanceof UnknownSourceError ||
          (err instanceof SourceError && err.code !== 'unreachable');
        // The requester hears about a failure from the job relay; the task's other targets from here, once.
        if ((permanent || h.job.attempts >= h.job.maxAttempts) && !h.signal.aborted) {
          const failed: NoticeFacts = { ...facts, outcome: 'failed', durationMs: now() - startedAt, error: (err as Error).message };
          await notifyTargets(env, h, task, failed).catch((e) => h.log.warn({ err: (e as Error).message }, 'failure notice not queued'));
        }
        if (h.signal.aborted) throw err; // cancel, timeout or shutdown: the runner records why
        if (err instanceof UnknownSourceError) throw new PermanentJobError(err.message);
        if (err instanceof SourceError && err.code !== 'unreachable') throw new PermanentJobError(err.message, { cause: err });
        throw err;
      }
    },
    describe: (r) => r.message,
    // The message says how long the export took (the template's {duration}, or a line of its own).
    describeHasDuration: true,
  });
}

/** Queue the notice for every target but the requester (whose conversation gets the final message). */
async function notifyTargets(
  env: Env,
  h: JobHelpers,
  task: TaskSpec,
  facts: NoticeFacts,
  attachment?: { path: string; filename: string },
): Promise<number> {
  const others: StoredTarget[] = task.targets.filter((x) => x.type !== 'requester');
  if (others.length === 0) return 0;
  const ids = await enqueueNotice(
    { db: h.db, t: env.t, config: env.config },
    {
      jobId: h.job.id,
      facts,
      template: facts.outcome === 'succeeded' ? task.notice : undefined,
      targets: others,
      requester: h.job.replyTo ?? undefined,
      attachment,
    },
  );
  return ids.length;
}

async function lastRowCount(h: JobHelpers, task: string): Promise<number | undefined> {
  const [r] = await h.db.query<{ rows: number | null }>(
    `select (result->>'rows')::bigint as rows from jobs where kind = 'sql_export' and status = 'succeeded' and payload->>'task' = $1
      order by finished_at desc limit 1`,
    [task],
  );
  return r?.rows ? Number(r.rows) : undefined;
}
