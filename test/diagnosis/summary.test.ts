import { describe, expect, it } from 'vitest';
import type { BrandStats } from '../../src/diagnosis/analysis';
import type { ModelConfig } from '../../src/diagnosis/models';
import { estimateSeconds } from '../../src/diagnosis/submit-diagnosis';
import { delta, mainFinding } from '../../src/diagnosis/summary';
import { createTranslator } from '../../src/i18n';

const zh = createTranslator('zh-CN');
const en = createTranslator('en');
const s = (brand: string, mentionRate: number, averageRank: number | null = 1): BrandStats => ({
  brand,
  answers: 6,
  mentionRate,
  averageRank,
  firstPlaceRate: 0,
  shareOfVoice: 0,
  mentions: 0,
});

describe('mainFinding', () => {
  it.each([
    [
      'leads',
      [s('趣车良品', 0.8, 1.2), s('竞品A', 0.5), s('竞品B', 0.2)],
      '趣车良品 提及率 80%，领先所有竞品（平均排名 1.2；其次是 竞品A 50%）。',
    ],
    [
      'tied',
      [s('趣车良品', 1, 1.5), s('竞品A', 1, 1.5), s('竞品B', 0.5)],
      '趣车良品 提及率 100%，与 竞品A 并列最高（趣车良品 平均排名 1.5）。',
    ],
    ['behind', [s('趣车良品', 0.3), s('竞品A', 0.9), s('竞品B', 0.6)], '趣车良品 提及率 30%，落后于 竞品A（90%），在 3 个品牌中排第 3。'],
    [
      'behind, sharing second place',
      [s('趣车良品', 0.5), s('竞品A', 0.9), s('竞品B', 0.5)],
      '趣车良品 提及率 50%，落后于 竞品A（90%），在 3 个品牌中排第 2。',
    ],
    ['not mentioned', [s('趣车良品', 0, null), s('竞品A', 0.4)], '趣车良品 在所有回答中都没有被提及，提及最多的是 竞品A（40%）。'],
    ['nobody mentioned', [s('趣车良品', 0, null), s('竞品A', 0, null)], '所有回答都没有提到任何一个品牌。'],
  ])('%s', (_what, stats, want) => {
    expect(mainFinding(stats, zh)).toBe(want);
  });

  it('speaks English with LOCALE=en', () => {
    expect(mainFinding([s('QCLP', 0.3), s('RivalA', 0.9)], en)).toBe(
      'QCLP has a mention rate of 30%, behind RivalA (90%): place 2 of 2 brands.',
    );
  });
});

describe('delta', () => {
  it.each([
    [0.8333, 0.6667, '↑17'],
    [0.5, 0.75, '↓25'],
    [0.5, 0.5, '→0'],
    [0.5, undefined, ''],
  ])('%s since %s → %s', (now, before, want) => {
    expect(delta(now, before)).toBe(want);
  });
});

describe('estimateSeconds', () => {
  const m = (name: string, over: Partial<ModelConfig> = {}): ModelConfig => ({
    name,
    baseUrl: 'http://127.0.0.1:9',
    model: name,
    concurrency: 4,
    rpm: 60,
    rateWindowMs: 60_000,
    timeoutMs: 60_000,
    maxRetries: 3,
    ...over,
  });
  const qs = (n: number) => Array.from({ length: n }, (_, i) => `Q${i}`);
  it.each([
    ['rounds of a model’s concurrency × its recent latency', [m('a')], 10, { a: 2000 }, 20, 6],
    ['models run side by side: the slowest decides', [m('a'), m('b', { concurrency: 1 })], 3, { a: 1000, b: 1000 }, 20, 3],
    ['the global limit caps all models together', [m('a'), m('b')], 8, { a: 1000, b: 1000 }, 2, 8],
    ['a tight rate limit dominates', [m('a', { rpm: 2 })], 5, { a: 100 }, 20, 121],
    ['no history: a tenth of the timeout per round', [m('a', { timeoutMs: 30_000 })], 4, {}, 20, 3],
  ])('%s', (_what, models, n, lat, global, want) => {
    expect(estimateSeconds({ models, questions: qs(n) }, new Map(Object.entries(lat)), global)).toBe(want);
  });
});
