// End of the current event-loop turn (setImmediate; a timer where there is none, e.g. a Worker without it).
const afterTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/**
 * Group commit: calls made while the previous statements of their kind are still running are
 * sent to the database together as one statement (at most `maxInFlight` of them run at a time; an
 * idle batcher sends at the end of the current event-loop turn). Each caller still gets its own
 * promise, which settles only once that statement has run, so a caller that awaits it sees exactly
 * what it would have seen with a statement of its own (a failed statement stored nothing, and is
 * retried one item per statement, so an error reaches only the caller whose item caused it). Under
 * load this turns a round trip per request into one per batch, which was most of the bot's intake
 * cost (README "Intake cost"). `flush` gets the items and returns one result (or a promise of one)
 * per item, in order.
 */
export function createBatcher<I, O>(
  flush: (items: I[]) => Promise<(O | Promise<O>)[]>,
  opts: { maxInFlight?: number; maxItems?: number } = {},
): (item: I) => Promise<O> {
  const maxInFlight = opts.maxInFlight ?? 2;
  const maxItems = opts.maxItems ?? 500;
  let pending: { item: I; resolve: (o: O | Promise<O>) => void; reject: (e: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;
  const run = () => {
    scheduled = false;
    while (pending.length > 0 && inFlight < maxInFlight) {
      const batch = pending.slice(0, maxItems);
      pending = pending.slice(batch.length);
      inFlight++;
      flush(batch.map((p) => p.item))
        .then(
          (out) => {
            for (let i = 0; i < batch.length; i++) batch[i]?.resolve(out[i] as O | Promise<O>);
          },
          (err) => {
            if (batch.length === 1) {
              batch[0]?.reject(err);
              return;
            }
            // One statement, so nothing of it was stored: run each item alone, so that one bad item
            // (text Postgres refuses, say) fails only its own caller, as it did without batching.
            return Promise.all(
              batch.map((p) =>
                flush([p.item]).then(
                  (out) => p.resolve(out[0] as O | Promise<O>),
                  (e) => p.reject(e),
                ),
              ),
            ).then(() => undefined);
          },
        )
        .finally(() => {
          inFlight--;
          schedule();
        });
    }
  };
  const schedule = () => {
    if (scheduled || pending.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    afterTurn(run);
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      schedule();
    });
}

/** One batcher per database handle (each handle is its own pool, and tests open several). */
export function perDatabase<D extends object, I, O>(make: (db: D) => (item: I) => Promise<O>): (db: D) => (item: I) => Promise<O> {
  const made = new WeakMap<D, (item: I) => Promise<O>>();
  return (db) => {
    let b = made.get(db);
    if (!b) {
      b = make(db);
      made.set(db, b);
    }
    return b;
  };
}

/** A Postgres array literal of ids (`{1,2,3}`), passed as text and cast in SQL: same on both drivers. */
export const idArray = (ids: readonly number[]) => `{${ids.map((i) => Math.trunc(Number(i))).join(',')}}`;
