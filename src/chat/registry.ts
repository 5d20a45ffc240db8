import { hasMessage } from '../i18n';
import { editDistance } from '../lib/edit-distance';
import type { CommandDef } from './define-command';

/** The commands this bot knows, looked up by name or alias. */
export interface CommandRegistry {
  readonly commands: readonly CommandDef[];
  find(word: string): CommandDef | undefined;
  /** Close matches for a mistyped word ("did you mean"), best first. */
  suggest(word: string): string[];
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
