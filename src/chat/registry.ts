import { hasMessage } from '../i18n';
import type { CommandDef } from './define-command';

/** The commands this bot knows, looked up by name or alias. */
export interface CommandRegistry {
  readonly commands: readonly CommandDef[];
  find(word: string): CommandDef | undefined;
  /** Close matches for a mistyped word ("did you mean"), best first. */
  suggest(word: string): string[];
}

/** Edit distance between two strings, counting a swap of neighbours as one edit (typos like "pnig"). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, (d[i - 2]?.[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return d[x.length]?.[y.length] ?? 0;
}

function wordsOf(def: CommandDef): string[] {
  return [def.name, ...(def.aliases ?? [])];
}

/** Find a subcommand of `def` by name or alias. */
export function findSubcommand(def: CommandDef, word: string): CommandDef | undefined {
  const w = word.toLowerCase();
  return def.subcommands?.find((s) => wordsOf(s).some((x) => x.toLowerCase() === w));
}

/**
 * Build the registry from the explicit command list. Throws at boot on a duplicate name or
 * alias, or a command whose help text is missing from the catalog.
 */
export function createRegistry(defs: CommandDef[]): CommandRegistry {
  const byWord = new Map<string, CommandDef>();
  const check = (def: CommandDef) => {
    for (const key of [`${def.catalogKey}.summary`]) {
      if (!hasMessage(key)) throw new Error(`command ${def.name}: catalog has no "${key}"`);
    }
    for (const name of Object.keys(def.args.shape)) {
      const key = `${def.catalogKey}.arg.${name}`;
      if (!hasMessage(key)) throw new Error(`command ${def.name}: catalog has no "${key}"`);
    }
    if (def.examples.length === 0) throw new Error(`command ${def.name}: needs at least one example`);
  };
  for (const def of defs) {
    check(def);
    for (const sub of def.subcommands ?? []) check(sub);
    for (const w of wordsOf(def)) {
      const key = w.toLowerCase();
      if (byWord.has(key)) throw new Error(`command word "${w}" is used by ${byWord.get(key)?.name} and ${def.name}`);
      byWord.set(key, def);
    }
  }
  return {
    commands: defs,
    find: (word) => byWord.get(word.toLowerCase()),
    suggest(word) {
      const w = word.toLowerCase();
      if (w === '') return [];
      const scored: { name: string; d: number }[] = [];
      for (const [candidate, def] of byWord) {
        const limit = Math.max(1, Math.min(2, Math.floor([...candidate].length / 3)));
        const d = candidate.startsWith(w) && w.length >= 2 ? 0.5 : editDistance(w, candidate);
        if (d <= limit) scored.push({ name: def.name, d });
      }
      scored.sort((a, b) => a.d - b.d);
      return [...new Set(scored.map((s) => s.name))].slice(0, 3);
    },
  };
}
