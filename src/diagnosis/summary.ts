import type { Translator } from '../i18n';
import type { BrandStats } from './analysis';
import type { DiagnosisResult } from './types';

/** 0.6667 → "67%". */
export const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The change of a rate since the previous run, in points: "↑12", "↓5", "→0". */
export function delta(now: number, before: number | undefined): string {
  if (before === undefined) return '';
  const d = Math.round((now - before) * 100);
  return d > 0 ? `↑${d}` : d < 0 ? `↓${-d}` : '→0';
}

/** The main finding in one sentence, about the user's own brand (the first). Pure. */
export function mainFinding(overall: readonly BrandStats[], t: Translator): string {
  const own = overall[0];
  if (!own) return '';
  const byRate = [...overall].sort((a, b) => b.mentionRate - a.mentionRate || (a.averageRank ?? 99) - (b.averageRank ?? 99));
  const leader = byRate[0] as BrandStats;
  if (own.mentionRate === 0) {
    return leader.mentionRate === 0
      ? t('diagnose.finding.noneMentioned')
      : t('diagnose.finding.notMentioned', { own: own.brand, leader: leader.brand, rate: pct(leader.mentionRate) });
  }
  const place = overall.filter((s) => s.mentionRate > own.mentionRate).length + 1;
  const tied = overall.filter((s) => s.brand !== own.brand && s.mentionRate === own.mentionRate);
  if (leader.mentionRate === own.mentionRate && tied.length > 0) {
    return t('diagnose.finding.tied', {
      own: own.brand,
      rate: pct(own.mentionRate),
      others: tied.map((s) => s.brand).join(t('list.sep')),
      rank: own.averageRank?.toFixed(1) ?? '-',
    });
  }
  if (leader.mentionRate === own.mentionRate) {
    const second = byRate.find((s) => s.brand !== own.brand);
    return t('diagnose.finding.leads', {
      own: own.brand,
      rate: pct(own.mentionRate),
      rank: own.averageRank?.toFixed(1) ?? '-',
      second: second?.brand ?? '-',
      secondRate: second ? pct(second.mentionRate) : '-',
    });
  }
  return t('diagnose.finding.behind', {
    own: own.brand,
    rate: pct(own.mentionRate),
    leader: leader.brand,
    leaderRate: pct(leader.mentionRate),
    place,
    of: overall.length,
  });
}

/** One compact line per brand: mention rate, average rank, first-place rate, share of voice (+ change). */
export function statLines(stats: readonly BrandStats[], t: Translator, previous?: readonly BrandStats[]): string[] {
  const before = new Map((previous ?? []).map((s) => [s.brand, s]));
  return stats.map((s) => {
    const p = before.get(s.brand);
    const d = p ? ` (${delta(s.mentionRate, p.mentionRate)})` : '';
    return t('diagnose.statLine', {
      brand: s.brand,
      rate: pct(s.mentionRate),
      change: d,
      rank: s.averageRank === null ? '-' : s.averageRank.toFixed(1),
      first: pct(s.firstPlaceRate),
      sov: pct(s.shareOfVoice),
    });
  });
}

/** The chat summary of a finished diagnosis: finding, compact table, per model, warnings, report link. */
export function describeDiagnosis(r: DiagnosisResult, t: Translator): string {
  const parts = [
    `**${mainFinding(r.overall, t)}**`,
    t('diagnose.summary.scope', { q: r.questions.length, m: r.models.length, answered: r.answered, calls: r.calls }),
    `${t('diagnose.summary.header')}\n${statLines(r.overall, t, r.previous?.overall).join('\n')}`,
  ];
  if (r.previous) parts.push(t('diagnose.summary.previous', { id: r.previous.jobId }));
  if (r.perModel.length > 1) {
    const own = r.brands[0]?.name;
    const lines = r.perModel.map((m) => {
      const s = m.stats.find((x) => x.brand === own);
      return t('diagnose.summary.modelLine', {
        model: m.model,
        rate: s ? pct(s.mentionRate) : '-',
        rank: s?.averageRank == null ? '-' : s.averageRank.toFixed(1),
      });
    });
    parts.push(`${t('diagnose.summary.perModel', { own: own ?? '' })}\n${lines.join('\n')}`);
  }
  if (r.warnings.length) {
    const shown = r.warnings.slice(0, 5).map((w) => `- ${w}`);
    if (r.warnings.length > 5) shown.push(`- … ${t('diagnose.summary.moreWarnings', { n: r.warnings.length - 5 })}`);
    parts.push(`${t('diagnose.summary.warnings', { n: r.failed })}\n${shown.join('\n')}`);
  }
  if (r.report) parts.push(t('diagnose.summary.report', { url: r.report.url, filename: r.report.filename }));
  else if (r.reportError) parts.push(t('diagnose.summary.reportFailed', { error: r.reportError.slice(0, 200) }));
  return parts.join('\n\n');
}
