import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregate, analyzeAnswer, type Brand, normalizeText, parseBrand } from '../../src/diagnosis/analysis';

const b = (spec: string): Brand => parseBrand(spec);
const pick = (text: string, brands: Brand[]) =>
  analyzeAnswer(text, brands).map((m) => [m.brand, m.count, m.rank, m.firstPosition] as const);

describe('analyzeAnswer', () => {
  it.each([
    {
      what: 'counts, first positions and ranks in order of first mention',
      text: '推荐竞品A，其次趣车良品，竞品A也不错',
      brands: ['趣车良品', '竞品A', '竞品B'],
      want: [
        ['趣车良品', 1, 2, 8],
        ['竞品A', 2, 1, 2],
        ['竞品B', 0, null, null],
      ],
    },
    {
      what: 'aliases count for their brand',
      text: 'QCLP 口碑好；趣车良品的门店多',
      brands: ['趣车良品|QCLP', '竞品A'],
      want: [
        ['趣车良品', 2, 1, 0],
        ['竞品A', 0, null, null],
      ],
    },
    {
      what: 'full-width letters and case do not matter',
      text: '首选ｑｃｌｐ，其次ＢＹＤ',
      brands: ['趣车良品|QCLP', 'byd'],
      want: [
        ['趣车良品', 1, 1, 2],
        ['byd', 1, 2, 9],
      ],
    },
    {
      what: 'a brand inside a longer brand is not a mention of the shorter one',
      text: '小米汽车的改装店，比小米手机的店少；小米汽车更贵',
      brands: ['小米', '小米汽车'],
      want: [
        ['小米', 1, 2, 10],
        ['小米汽车', 2, 1, 0],
      ],
    },
    {
      what: 'an alias inside the same brand’s longer name counts once',
      text: '趣车良品',
      brands: ['趣车良品|趣车'],
      want: [['趣车良品', 1, 1, 0]],
    },
    {
      what: 'no mention at all',
      text: '都不错',
      brands: ['A', 'B'],
      want: [
        ['A', 0, null, null],
        ['B', 0, null, null],
      ],
    },
  ])('$what', ({ text, brands, want }) => {
    expect(pick(text, brands.map(b))).toEqual(want);
  });
});

describe('aggregate', () => {
  it('mention rate, average rank, first-place rate and share of voice', () => {
    const brands = ['趣车良品', '竞品A', '竞品B'].map(b);
    const answers = ['趣车良品最好，竞品A次之', '竞品A，竞品A，趣车良品', '都一般', '竞品B 和 趣车良品'];
    const stats = aggregate(
      brands,
      answers.map((a) => analyzeAnswer(a, brands)),
    );
    // 趣车良品: in 3/4 answers, ranks 1,2,2; first once; mentions 3 of 7 in total.
    expect(stats[0]).toEqual({
      brand: '趣车良品',
      answers: 4,
      mentionRate: 0.75,
      averageRank: 5 / 3,
      firstPlaceRate: 0.25,
      shareOfVoice: 3 / 7,
      mentions: 3,
    });
    expect(stats[1]).toMatchObject({ mentionRate: 0.5, averageRank: 1.5, firstPlaceRate: 0.25, shareOfVoice: 3 / 7 });
    expect(stats[2]).toMatchObject({ mentionRate: 0.25, averageRank: 1, firstPlaceRate: 0.25, shareOfVoice: 1 / 7 });
  });

  it('no answers: rates are 0 and ranks absent', () => {
    expect(aggregate([b('A')], [])).toEqual([
      { brand: 'A', answers: 0, mentionRate: 0, averageRank: null, firstPlaceRate: 0, shareOfVoice: 0, mentions: 0 },
    ]);
  });
});

// Brands that do not contain one another (the containment rule is table-tested above).
const word = fc.stringMatching(/^[a-z]{3,6}$/);
const brandsArb = fc
  .uniqueArray(word, { minLength: 1, maxLength: 5 })
  .filter((ws) => ws.every((x) => ws.every((y) => x === y || !y.includes(x))));
const filler = fc.stringMatching(/^[ 。，0-9的和是]{1,6}$/);

describe('properties', () => {
  it('mentioned ⇔ count > 0 ⇔ rank given, and ranks are 1..k among the mentioned', () => {
    fc.assert(
      fc.property(brandsArb, fc.array(fc.tuple(filler, fc.nat(9)), { maxLength: 8 }), (names, parts) => {
        const brands = names.map((n) => b(n));
        const text = parts.map(([f, i]) => `${f}${names[i % names.length]}`).join('');
        const ms = analyzeAnswer(text, brands);
        for (const m of ms) {
          expect(m.mentioned).toBe(m.count > 0);
          expect(m.rank !== null).toBe(m.mentioned);
        }
        const ranks = ms
          .map((m) => m.rank)
          .filter((r) => r !== null)
          .sort();
        expect(ranks).toEqual(ranks.map((_, i) => i + 1));
        // The count is exactly how often the name was written.
        for (const [i, n] of names.entries()) expect(ms[i]?.count).toBe(parts.filter(([, j]) => names[j % names.length] === n).length);
      }),
    );
  });

  it('full-width and upper-case text gives the same analysis', () => {
    const toFull = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    fc.assert(
      fc.property(brandsArb, fc.array(fc.tuple(filler, fc.nat(9)), { maxLength: 8 }), (names, parts) => {
        const brands = names.map((n) => b(n));
        const text = parts.map(([f, i]) => `${f}${names[i % names.length]}`).join('');
        const strip = (ms: ReturnType<typeof analyzeAnswer>) => ms.map(({ firstPosition, ...m }) => m);
        expect(strip(analyzeAnswer(toFull(text).toUpperCase(), brands))).toEqual(strip(analyzeAnswer(text, brands)));
      }),
    );
  });

  it('share of voice sums to 1 whenever anything is mentioned; rates stay within [0, 1]', () => {
    fc.assert(
      fc.property(
        brandsArb,
        fc.array(fc.array(fc.tuple(filler, fc.nat(9)), { maxLength: 6 }), { minLength: 1, maxLength: 6 }),
        (names, answers) => {
          const brands = names.map((n) => b(n));
          const per = answers.map((parts) => analyzeAnswer(parts.map(([f, i]) => `${f}${names[i % names.length]}`).join(''), brands));
          const stats = aggregate(brands, per);
          const total = stats.reduce((s, x) => s + x.mentions, 0);
          const sov = stats.reduce((s, x) => s + x.shareOfVoice, 0);
          if (total > 0) expect(sov).toBeCloseTo(1, 9);
          else expect(sov).toBe(0);
          for (const s of stats) {
            for (const r of [s.mentionRate, s.firstPlaceRate, s.shareOfVoice]) expect(r >= 0 && r <= 1).toBe(true);
            expect(s.firstPlaceRate).toBeLessThanOrEqual(s.mentionRate);
          }
        },
      ),
    );
  });

  it('normalizeText folds full width and case', () => {
    expect(normalizeText('ＡＢＣ１２３abc')).toBe('abc123abc');
  });
});
