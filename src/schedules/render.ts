import type { Translator } from '../i18n';
import { formatDuration, kindLabel } from '../jobs/render';
import { nextFires } from './cron';
import { describeCron, formatInZone, zoneLabel } from './describe';
import { resultFacts, type ScheduleRun, type ScheduleStats } from './history';
import type { Schedule } from './store';

export const STATE_ICON: Record<string, string> = { active: '🟢', paused: '⏸', stopped: '⏹' };

/** When a schedule fires, in words: "每个工作日 09:00（北京时间）", "once at …", "on demand". */
export async function whenText(s: Pick<Schedule, 'type' | 'cron' | 'timezone' | 'runAt'>, t: Translator): Promise<string> {
  if (s.type === 'cron' && s.cron) return describeCron(s.cron, s.timezone, t.locale);
  if (s.type === 'date' && s.runAt)
    return t('schedule.when.date', { at: formatInZone(s.runAt, s.timezone), zone: zoneLabel(s.timezone, t.locale) });
  return t('schedule.when.manual');
}

/** The next `n` fire times as lines, in the schedule's zone. */
export function nextLines(s: Schedule, now: Date, n = 3): string[] {
  if (s.state !== 'active') return [];
  if (s.type === 'cron' && s.cron) return nextFires(s.cron, s.timezone, now, n).map((d) => `- ${formatInZone(d, s.timezone)}`);
  if (s.type === 'date' && s.runAt && s.runAt.getTime() > now.getTime()) return [`- ${formatInZone(s.runAt, s.timezone)}`];
  return [];
}

/** Where the runs' notices go. */
export function targetText(s: Pick<Schedule, 'replyTo'>, t: Translator): string {
  const r = s.replyTo;
  if (!r) return t('schedule.target.none');
  return r.conversationType === 'group'
    ? t('schedule.target.group', { id: r.conversationId })
    : t('schedule.target.single', { id: r.conversationId });
}

/** One line of /schedule list. */
export async function listLine(s: Schedule, t: Translator): Promise<string> {
  const next = s.nextFireAt && s.state === 'active' ? t('schedule.list.next', { at: formatInZone(s.nextFireAt, s.timezone) }) : '';
  const builtin = s.builtin ? t('schedule.builtin') : '';
  return `- ${STATE_ICON[s.state] ?? ''} **${s.name}**${builtin} · ${await whenText(s, t)} · ${whatText(s, t)}${next}`;
}

/** What a schedule runs: the kind, and for an export its task, so two export schedules tell apart. */
export function whatText(s: Pick<Schedule, 'kind' | 'payload'>, t: Translator): string {
  const p = (s.payload ?? {}) as Record<string, unknown>;
  return `${kindLabel(t, s.kind)}${typeof p.task === 'string' ? ` ${p.task}` : ''}`;
}

/** /schedule show: configuration, state, runs and the next fires. */
export async function detailText(s: Schedule, stats: ScheduleStats, t: Translator, now: Date): Promise<string> {
  const rate = stats.runs > 0 ? `${Math.round((stats.succeeded / stats.runs) * 100)}%` : '-';
  const lines = [
    `### ${t('schedule.detail.title', { name: s.name })}${s.builtin ? t('schedule.builtin') : ''}`,
    `- ${t('schedule.detail.state')}: ${STATE_ICON[s.state] ?? ''} ${t(`schedule.state.${s.state}`)}`,
    `- ${t('schedule.detail.when')}: ${await whenText(s, t)}${s.cron ? ` \`${s.cron}\`` : ''}`,
    `- ${t('schedule.detail.kind')}: ${kindLabel(t, s.kind)} ${payloadText(s.payload)}`,
    `- ${t('schedule.detail.target')}: ${targetText(s, t)}`,
    `- ${t('schedule.detail.policy', { grace: formatDuration(s.misfireGraceSec * 1000, t), overlap: t(`schedule.overlap.${s.overlap}`) })}`,
    `- ${t('schedule.detail.owner')}: ${s.owner}`,
    `- ${t('schedule.detail.last')}: ${s.lastFireAt ? formatInZone(s.lastFireAt, s.timezone) : '-'}`,
    `- ${t('schedule.detail.runs', {
      runs: stats.runs,
      ok: stats.succeeded,
      failed: stats.failed,
      rate,
      avg: stats.avgMs === null ? '-' : formatDuration(stats.avgMs, t),
      missed: stats.missed,
      skipped: stats.skipped,
    })}`,
  ];
  const next = nextLines(s, now);
  if (next.length > 0) lines.push('', t('schedule.detail.next'), ...next);
  return lines.join('\n');
}

/** A compact view of a payload for chat (long values cut). */
export function payloadText(payload: Record<string, unknown>): string {
  // An export's `values` are bound at each fire from what was typed (`typed`): show what was typed.
  const { typed, values: _bound, requestedBy: _by, requestedByName: _name, ...rest } = payload as Record<string, unknown>;
  const shown = { ...rest, ...(typed && typeof typed === 'object' ? (typed as Record<string, unknown>) : {}) };
  const parts = Object.entries(shown).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const s = parts.join(' ');
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** One line of /schedule history: fire time, outcome, duration, rows and link when the kind has them. */
export function historyLine(r: ScheduleRun, zone: string, t: Translator): string {
  const when = formatInZone(r.fireAt, zone);
  const reason = r.reason === 'scheduled' ? '' : ` (${t(`schedule.reason.${r.reason}` as never)})`;
  if (!r.jobId) return `- ${when}${reason} · ${t(`schedule.outcome.${r.outcome}` as never)}`;
  const took = r.startedAt && r.finishedAt ? formatDuration(r.finishedAt.getTime() - r.startedAt.getTime(), t) : '-';
  const status = r.status ? t(`job.status.${r.status}` as never) : '-';
  const facts = resultFacts(r.result);
  const parts = [`- ${when}${reason} · #${r.jobId} ${status}`, t('schedule.history.took', { took })];
  if (facts.rows !== undefined) parts.push(t('schedule.history.rows', { rows: facts.rows }));
  if (facts.url) parts.push(`[${t('schedule.history.download')}](${facts.url})`);
  if (r.error && r.status !== 'succeeded') parts.push(`${t('schedule.history.error')}: ${r.error.slice(0, 120)}`);
  return parts.join(' · ');
}
