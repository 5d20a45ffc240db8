import type { Database } from '../db/client';
import type { Translator } from '../i18n';
import type { Mention } from './analysis';
import type { StoredAnswer } from './answers';
import type { DiagnosisResult, ReportLink } from './types';

export type { ReportLink } from './types';

/** A cell of the report: numbers stay numbers (rates as fractions, formatted as percentages). */
export type Cell = string | number | null;

/** One worksheet: a header row, data rows, and which columns are percentages. */
export interface ReportSheet {
  name: string;
  header: string[];
  rows: Cell[][];
  percentColumns?: number[];
  /** Column widths in characters. */
  widths?: number[];
}

/** Writes a report and returns its signed download link (the files module behind it). */
export interface ReportPublisher {
  publish(r: { jobId: number; sheets: ReportSheet[]; signal: AbortSignal; db: Database }): Promise<ReportLink>;
}

const round = (x: number | null, d = 4) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

/**
 * The report's three sheets — summary, per model, every answer — as rows. Pure: the .xlsx writer
 * only lays them out, so what the cells say is tested here.
 */
export function buildReportSheets(
  r: DiagnosisResult,
  answers: readonly (StoredAnswer & { text: string; mentions: Mention[] })[],
  t: Translator,
): ReportSheet[] {
  const statHeader = [
    t('diagnose.col.brand'),
    t('diagnose.col.mentionRate'),
    t('diagnose.col.averageRank'),
    t('diagnose.col.firstPlaceRate'),
    t('diagnose.col.shareOfVoice'),
    t('diagnose.col.mentions'),
    t('diagnose.col.answers'),
  ];
  const summary: ReportSheet = {
    name: t('diagnose.sheet.summary'),
    header: statHeader,
    rows: r.overall.map((s) => [
      s.brand,
      round(s.mentionRate),
      round(s.averageRank, 2),
      round(s.firstPlaceRate),
      round(s.shareOfVoice),
      s.mentions,
      s.answers,
    ]),
    percentColumns: [1, 3, 4],
    widths: [20, 12, 12, 12, 12, 10, 10],
  };
  const perModel: ReportSheet = {
    name: t('diagnose.sheet.perModel'),
    header: [t('diagnose.col.model'), ...statHeader],
    rows: r.perModel.flatMap((m) =>
      m.stats.map((s) => [
        m.model,
        s.brand,
        round(s.mentionRate),
        round(s.averageRank, 2),
        round(s.firstPlaceRate),
        round(s.shareOfVoice),
        s.mentions,
        s.answers,
      ]),
    ),
    percentColumns: [2, 4, 5],
    widths: [14, 20, 12, 12, 12, 12, 10, 10],
  };
  const brandCols = r.brands.flatMap((b) => [
    t('diagnose.col.brandCount', { brand: b.name }),
    t('diagnose.col.brandRank', { brand: b.name }),
  ]);
  const all: ReportSheet = {
    name: t('diagnose.sheet.answers'),
    header: [
      t('diagnose.col.model'),
      t('diagnose.col.questionNo'),
      t('diagnose.col.question'),
      t('diagnose.col.modelVersion'),
      t('diagnose.col.latencyMs'),
      t('diagnose.col.promptTokens'),
      t('diagnose.col.completionTokens'),
      ...brandCols,
      t('diagnose.col.answer'),
    ],
    rows: answers.map((a) => [
      a.model,
      a.questionIndex + 1,
      r.questions[a.questionIndex] ?? '',
      a.modelVersion,
      a.latencyMs,
      a.promptTokens,
      a.completionTokens,
      ...a.mentions.flatMap((m) => [m.count, m.rank]),
      a.text,
    ]),
    widths: [14, 8, 40, 24, 10, 10, 10, ...brandCols.map(() => 10), 80],
  };
  return [summary, perModel, all];
}
