import { editDistance } from '../lib/edit-distance';
import { type Preset, presetSchema } from './preset-schema';

/** Words the push command reserves; a preset may not use them as field short names. */
const RESERVED_FIELDS = ['type', 'count', 'dry', 'sku', 'queue', 'items'];

/** The order types, found by type, Chinese or English name, or alias. */
export interface PresetRegistry {
  readonly list: readonly Preset[];
  get(word: string): Preset | undefined;
  suggest(word: string): string[];
  /** The queues the presets publish to (the default push allow-list). */
  queues(): string[];
}

/** Validate the presets and index them; throws at boot naming the bad file and field. */
export function createPresetRegistry(raw: unknown[]): PresetRegistry {
  const list: Preset[] = [];
  const byWord = new Map<string, Preset>();
  for (const [i, r] of raw.entries()) {
    const parsed = presetSchema.safeParse(r);
    const label = (r as { type?: string })?.type ?? `#${i}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`preset ${label}: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    const p = parsed.data;
    for (const f of Object.keys(p.fields)) {
      if (RESERVED_FIELDS.includes(f.toLowerCase())) throw new Error(`preset ${p.type}: field name "${f}" is reserved by /push`);
    }
    for (const w of [p.type, p.names.zh, p.names.en, ...p.aliases]) {
      const key = w.toLowerCase();
      const other = byWord.get(key);
      if (other && other !== p) throw new Error(`preset word "${w}" is used by ${other.type} and ${p.type}`);
      byWord.set(key, p);
    }
    list.push(p);
  }
  return {
    list,
    get: (word) => byWord.get(word.toLowerCase()),
    suggest(word) {
      const w = word.toLowerCase();
      const hits = [...byWord.entries()]
        .map(([k, p]) => ({ p, d: editDistance(w, k) }))
        .filter((x) => x.d <= Math.max(1, Math.floor(w.length / 3)))
        .sort((a, b) => a.d - b.d);
      return [...new Set(hits.map((h) => h.p.type))].slice(0, 3);
    },
    queues: () => [...new Set(list.map((p) => p.queue))],
  };
}
