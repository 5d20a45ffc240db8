import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined | null;

/**
 * V8's full collection, for a writer that turns out garbage faster than V8's heuristics reclaim
 * it. An export of a million rows leaves ~40 MB live but lets the heap grow to ~100 MB of
 * garbage (and Buffers that only a collection frees) before V8 collects on its own
 * (bench/export.ts `peak`). Exposed once through `--expose-gc` set at run time; a no-op if
 * the runtime refuses.
 */
export function fullGc(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  collect?.();
}
