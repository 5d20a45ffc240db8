import { describe, expect, it } from 'vitest';
import type { BrandStats } from '../../src/diagnosis/analysis';
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
