/** A brand to look for: its display name and the other names it goes by. */
export interface Brand {
  name: string;
  aliases: string[];
}

/** How one answer mentions one brand. */
export interface Mention {
  brand: string;
  mentioned: boolean;
  /** Index of the first mention in the normalised answer; null when not mentioned. */
  firstPosition: number | null;
  count: number;
  /** 1 = named first among the brands this answer mentions; null when not mentioned. */
  rank: number | null;
}

/** Figures for one brand over a set of answers. */
export interface BrandStats {
  brand: string;
  answers: number;
  /** Answers that mention the brand / answers. */
  mentionRate: number;
  /** Mean rank over the answers that mention it; null if none does. */
  averageRank: number | null;
  /** Answers that name it first / answers. */
  firstPlaceRate: number;
  /** Its mentions / all brands' mentions (0 when no brand is mentioned). */
  shareOfVoice: number;
  mentions: number;
}

/**
 * Text as it is compared: NFKC folds full-width letters, digits and punctuation to their ASCII
 * forms (ＱＣＬＰ → QCLP), then lower case. Pure.
 */
export function normalizeText(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

/** Parse `趣车良品|QCLP` into a brand with aliases. */
export function parseBrand(spec: string): Brand {
  const names = spec
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
  return { name: names[0] ?? spec.trim(), aliases: names.slice(1) };
}

interface Hit {
  brand: number;
  start: number;
  end: number;
}

/**
 * Every brand's mentions in one answer. Matching ignores case and full/half width and counts
 * aliases; a name found inside a longer name of another brand (小米 inside 小米汽车, both brands)
 * is not a mention of the shorter one. Pure.
 */
export function analyzeAnswer(text: string, brands: readonly Brand[]): Mention[] {
  const hay = normalizeText(text);
  const hits: Hit[] = [];
  brands.forEach((b, brand) => {
    const names = [...new Set([b.name, ...b.aliases].map(normalizeText).filter(Boolean))];
    for (const name of names) {
      for (let at = hay.indexOf(name); at >= 0; at = hay.indexOf(name, at + name.length)) {
        hits.push({ brand, start: at, end: at + name.length });
      }
    }
  });
  // Longest first: a hit inside an already kept, longer hit is part of that name, not a mention.
  hits.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Hit[] = [];
  for (const h of hits) {
    if (kept.some((k) => k.start <= h.start && h.end <= k.end)) continue;
    kept.push(h);
  }
  const first = new Map<number, number>();
  const count = new Map<number, number>();
  for (const h of kept) {
    count.set(h.brand, (count.get(h.brand) ?? 0) + 1);
    first.set(h.brand, Math.min(first.get(h.brand) ?? Number.POSITIVE_INFINITY, h.start));
  }
  const order = [...first.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([b]) => b);
  return brands.map((b, i) => {
    const pos = first.get(i);
    return {
      brand: b.name,
      mentioned: pos !== undefined,
      firstPosition: pos ?? null,
      count: count.get(i) ?? 0,
      rank: pos === undefined ? null : order.indexOf(i) + 1,
    };
  });
}

/** Aggregate per-answer mentions (one Mention[] per answer, brands in the same order). Pure. */
export function aggregate(brands: readonly Brand[], perAnswer: readonly Mention[][]): BrandStats[] {
  const n = perAnswer.length;
  const total = perAnswer.reduce((s, ms) => s + ms.reduce((x, m) => x + m.count, 0), 0);
  return brands.map((b, i) => {
    let mentioned = 0;
    let firsts = 0;
    let rankSum = 0;
    let mentions = 0;
    for (const ms of perAnswer) {
      const m = ms[i];
      if (!m?.mentioned) continue;
      mentioned += 1;
      mentions += m.count;
      rankSum += m.rank ?? 0;
      if (m.rank === 1) firsts += 1;
    }
    return {
      brand: b.name,
      answers: n,
      mentionRate: n === 0 ? 0 : mentioned / n,
      averageRank: mentioned === 0 ? null : rankSum / mentioned,
      firstPlaceRate: n === 0 ? 0 : firsts / n,
      shareOfVoice: total === 0 ? 0 : mentions / total,
      mentions,
    };
  });
}

/** An answer as analysis needs it. */
export interface AnsweredCall {
  model: string;
  questionIndex: number;
  text: string;
}

/** The whole analysis of a run: per answer, overall per brand, and per model per brand. Pure. */
export function analyzeRun(brands: readonly Brand[], answers: readonly AnsweredCall[], models: readonly string[]) {
  const perAnswer = answers.map((a) => ({ ...a, mentions: analyzeAnswer(a.text, brands) }));
  const overall = aggregate(
    brands,
    perAnswer.map((a) => a.mentions),
  );
  const perModel = models.map((model) => ({
    model,
    stats: aggregate(
      brands,
      perAnswer.filter((a) => a.model === model).map((a) => a.mentions),
    ),
  }));
  return { perAnswer, overall, perModel };
}
