import { hasMessage, type MessageKey, type Translator } from '../i18n';
import type { OutMessage } from '../outbound';
import { describeJobError, parseJobErrorInfo } from './job-error';
import { progressBar } from './progress-throttle';
import type { JobEvent } from './reads';
import type { AnyJobDefinition, Job } from './types';

/** A job kind's display name (`job.kind.<kind>` in the catalog), or the kind itself. */
export function kindLabel(t: Translator, kind: string): string {
  const key = `job.kind.${kind}`;
  return hasMessage(key) ? t(key) : kind;
}

/** A duration for people: 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function formatDuration(ms: number, t: Translator): string {
  if (ms < 1000) return t('time.ms', { n: Math.max(0, Math.round(ms)) });
  if (ms < 60_000) return t('time.s', { n: (ms / 1000).toFixed(1) });
  if (ms < 3_600_000) return t('time.min', { m: Math.floor(ms / 60_000), s: String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0') });
  return t('time.h', { h: Math.floor(ms / 3_600_000), m: String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0') });
}

/** Local time as shown in chat (Asia/Shanghai by default: the team's clock). */
export function formatTime(d: Date | null | undefined, timeZone = 'Asia/Shanghai'): string {
  if (!d) return '-';
  return new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'medium' }).format(d);
}

/**
 * How long a job ran: its run time summed over attempts (idle time between attempts and waiting
 * in the queue excluded), or '-' before any attempt ended.
 */
function runTime(job: Pick<Job, 'runMs' | 'attempts'>, t: Translator): string {
  return job.attempts > 0 ? formatDuration(job.runMs, t) : '-';
}

/** A job's error as chat may show it: a catalog message, or a reference the admin finds in the log. */
function errorText(job: Pick<Job, 'id' | 'errorInfo'>, t: Translator): string {
  return describeJobError(job.errorInfo, t, job.id);
}

/** The message that closes a job in chat: result, or error and what to do. */
export function renderFinal(job: Job, t: Translator, def?: AnyJobDefinition): OutMessage {
  const kind = kindLabel(t, job.kind);
  const took = runTime(job, t);
  if (job.status === 'succeeded') {
    const title = t('job.final.succeeded', { id: job.id, kind });
    const body = def?.describe ? def.describe(job.result as never, t, job) : '';
    return {
      type: 'markdown',
      title,
      text: [`#### ✅ ${title}`, body, def?.describeHasDuration ? '' : t('job.final.took', { took })].filter(Boolean).join('\n\n'),
    };
  }
  if (job.status === 'cancelled') {
    const title = t('job.final.cancelled', { id: job.id, kind });
    // Where it stopped (a push says how many messages were already confirmed), then what to do.
    const at = job.progressText ? t('job.final.cancelledAt', { progress: job.progressText }) : '';
    return {
      type: 'markdown',
      title,
      text: [`#### ⏹ ${title}`, at, t('job.final.retryHint', { id: job.id })].filter(Boolean).join('\n\n'),
    };
  }
  const title = t('job.final.failed', { id: job.id, kind });
  return {
    type: 'markdown',
    title,
    text: [
      `#### ❌ ${title}`,
      t('job.final.error', { error: errorText(job, t) }),
      t('job.final.attempts', { attempts: job.attempts, took }),
      t('job.final.retryHint', { id: job.id }),
    ].join('\n\n'),
  };
}

/** The icon chat shows for each job status. */
export const STATUS_ICON: Record<string, string> = { queued: '⏳', running: '▶️', succeeded: '✅', failed: '❌', cancelled: '⏹' };

/** One line per job for /jobs. */
export function renderJobLine(job: Job, t: Translator): string {
  const status = t(`job.status.${job.status}` as MessageKey);
  const extra = job.status === 'running' ? ` ${progressBar(job.progress, 5)}` : '';
  return `- ${STATUS_ICON[job.status] ?? ''} #${job.id} ${kindLabel(t, job.kind)} · ${status}${extra} · ${formatTime(job.createdAt)} · ${job.requestedBy ?? '-'}`;
}

/** One event of a job's log in the chat language (never its raw message). */
function renderEvent(e: Pick<JobEvent, 'type' | 'data'>, jobId: number, t: Translator): string {
  const key = `job.event.${e.type}`;
  if (!hasMessage(key)) return e.type;
  const d = (e.data && typeof e.data === 'object' ? e.data : {}) as Record<string, unknown>;
  const vars = { attempt: String(d.attempt ?? '?'), of: String(d.of ?? '?'), by: String(d.by ?? '-') };
  const label = t(key, vars);
  if (e.type !== 'attempt_failed') return label;
  return `${label}: ${describeJobError(parseJobErrorInfo(d.error), t, jobId)}`;
}

/** The full picture of one job for /job <id>. */
export function renderJobDetail(job: Job, events: JobEvent[], t: Translator, def?: AnyJobDefinition, nowMs = Date.now()): string {
  const lines = [
    `### ${STATUS_ICON[job.status] ?? ''} ${t('job.detail.title', { id: job.id, kind: kindLabel(t, job.kind) })}`,
    `- ${t('job.detail.status')}: ${t(`job.status.${job.status}` as MessageKey)}`,
    `- ${t('job.detail.progress')}: ${progressBar(job.progress)}${job.progressText ? ` ${job.progressText}` : ''}`,
    `- ${t('job.detail.attempts')}: ${job.attempts}/${job.maxAttempts}`,
    `- ${t('job.detail.requestedBy')}: ${job.requestedBy ?? '-'}`,
    `- ${t('job.detail.created')}: ${formatTime(job.createdAt)}`,
  ];
  if (job.startedAt) lines.push(`- ${t('job.detail.started')}: ${formatTime(job.startedAt)}`);
  if (job.finishedAt) {
    lines.push(`- ${t('job.detail.finished')}: ${formatTime(job.finishedAt)}`);
    lines.push(`- ${t('job.detail.took')}: ${runTime(job, t)}`);
    if (job.startedAt) lines.push(`- ${t('job.detail.wall')}: ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime(), t)}`);
  } else if (job.status === 'queued' && job.runAt.getTime() > nowMs) {
    lines.push(`- ${t('job.detail.nextAttempt')}: ${formatTime(job.runAt)}`);
  }
  // A cancelled job's status says it all; a failed or retrying one says why (never the raw text).
  if ((job.status === 'failed' || job.status === 'queued') && (job.error || job.errorInfo)) {
    lines.push(`- ${t('job.detail.error')}: ${errorText(job, t)}`);
  }
  if (job.status === 'succeeded' && def?.describe) lines.push('', def.describe(job.result as never, t, job));
  if (events.length) {
    lines.push('', `**${t('job.detail.events')}**`);
    for (const e of events) lines.push(`- ${formatTime(e.at)} ${renderEvent(e, job.id, t)}`);
  }
  if (job.status === 'failed' || job.status === 'cancelled') lines.push('', t('job.final.retryHint', { id: job.id }));
  if (job.status === 'queued' || job.status === 'running') lines.push('', t('job.detail.cancelHint', { id: job.id }));
  return lines.join('\n');
}
