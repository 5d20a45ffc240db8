import { hasMessage, type MessageKey, type Translator } from '../i18n';
import type { OutMessage } from '../outbound';
import { progressBar } from './progress-throttle';
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

/** The message that closes a job in chat: result, or error and what to do. */
export function renderFinal(job: Job, t: Translator, def?: AnyJobDefinition): OutMessage {
  const kind = kindLabel(t, job.kind);
  const took = job.startedAt && job.finishedAt ? formatDuration(job.finishedAt.getTime() - job.startedAt.getTime(), t) : '-';
  if (job.status === 'succeeded') {
    const title = t('job.final.succeeded', { id: job.id, kind });
    const body = def?.describe ? def.describe(job.result as never, t, job) : '';
    return { type: 'markdown', title, text: [`#### ✅ ${title}`, body, t('job.final.took', { took })].filter(Boolean).join('\n\n') };
  }
  if (job.status === 'cancelled') {
    const title = t('job.final.cancelled', { id: job.id, kind });
    return { type: 'markdown', title, text: `#### ⏹ ${title}\n\n${t('job.final.retryHint', { id: job.id })}` };
  }
  const title = t('job.final.failed', { id: job.id, kind });
  return {
    type: 'markdown',
    title,
    text: [
      `#### ❌ ${title}`,
      t('job.final.error', { error: (job.error ?? '-').slice(0, 800) }),
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

/** The full picture of one job for /job <id>. */
export function renderJobDetail(
  job: Job,
  events: { at: Date; type: string; message: string | null }[],
  t: Translator,
  def?: AnyJobDefinition,
): string {
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
    if (job.startedAt) lines.push(`- ${t('job.detail.took')}: ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime(), t)}`);
  } else if (job.status === 'queued' && job.runAt.getTime() > Date.now()) {
    lines.push(`- ${t('job.detail.nextAttempt')}: ${formatTime(job.runAt)}`);
  }
  if (job.error) lines.push(`- ${t('job.detail.error')}: ${job.error.slice(0, 500)}`);
  if (job.status === 'succeeded' && def?.describe) lines.push('', def.describe(job.result as never, t, job));
  if (events.length) {
    lines.push('', `**${t('job.detail.events')}**`);
    for (const e of events) lines.push(`- ${formatTime(e.at)} ${e.type}${e.message ? `: ${e.message.slice(0, 200)}` : ''}`);
  }
  if (job.status === 'failed' || job.status === 'cancelled') lines.push('', t('job.final.retryHint', { id: job.id }));
  if (job.status === 'queued' || job.status === 'running') lines.push('', t('job.detail.cancelHint', { id: job.id }));
  return lines.join('\n');
}
