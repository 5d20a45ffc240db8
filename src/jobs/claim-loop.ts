import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { errorMessage } from '../errors';
import { type ClaimCursor, exchangeJobs } from './queue';
import type { AnyJobDefinition, Job } from './types';

/** What the claim loop needs. */
export interface ClaimLoopDeps {
  db: Database;
  log: Logger;
  workerId: string;
  definitions: AnyJobDefinition[];
  /** Default jobs at once per kind. */
  concurrency: number;
  leaseMs: number;
  now: () => number;
  /** Start a claimed job now (a slot of its kind is free); call `slotFreed` when it ends. */
  launch(job: Job): void;
  /** These jobs' completions were recorded (the relay posts their final messages). */
  recorded?(jobs: Job[]): void;
}

/** A finished handler waiting to be recorded as succeeded. */
export interface Completion {
  job: Job;
  result: unknown;
  progressText?: string;
}

/**
 * The claim loop: keeps each kind's slots full by claiming ready jobs, and records finished
 * handlers in the same statement (one round trip per batch instead of two).
 */
export interface ClaimLoop {
  /** Begin exchanging. */
  start(): void;
  /** Stop claiming and starting jobs; completions are still recorded. Returns the claimed-but-unstarted jobs. */
  stop(): Job[];
  /** Maybe ready jobs of `kind` (or of every kind) are waiting: claim from the head again. */
  wake(kind?: string): void;
  /** Record a success with the next exchange. */
  complete(c: Completion): void;
  /** A job of `kind` ended: start the next buffered one, claim more. */
  slotFreed(kind: string): void;
  /** Resolves when every completion so far is recorded. */
  flush(): Promise<void>;
  /** Jobs whose handlers run now. */
  running(): number;
}

// Statements in flight at once per runner: while one waits on Postgres the next is prepared and
// sent, so both cores stay busy.
const LANES = 2;
const PAUSE_AFTER_ERROR_MS = 1000;

/** Create the claim loop for the given kinds. */
export function createClaimLoop(o: ClaimLoopDeps): ClaimLoop {
  const defs = new Map(o.definitions.map((d) => [d.kind, d]));
  const buffer = new Map<string, Job[]>(); // claimed ahead of a free slot
  const runningByKind = new Map<string, number>();
  const pending: Completion[] = [];
  const requested = new Map<string, number>(); // jobs asked for by exchanges in flight, per kind
  let started = false;
  let stopping = false;
  let inflight = 0;
  let cycleQueued = false;
  let pausedUntil = 0;
  let rotation = 0;
  const drained: (() => void)[] = [];
  // Per kind: might ready jobs be waiting? (Last claim got all it asked for, or a NOTIFY/poll said so.)
  const more = new Map<string, boolean>([...defs.keys()].map((k) => [k, true]));
  // Per kind: where the last full claim ended. New or requeued jobs may sort before it, so any
  // wake-up (NOTIFY, poll, release) clears it and the next claim starts from the head again.
  const cursors = new Map<string, ClaimCursor>();
  // Bumped by every wake-up: a claim that was already in flight (its snapshot older than the news)
  // must not mark the kind as drained.
  const generation = new Map<string, number>();

  const limit = (kind: string) => defs.get(kind)?.concurrency ?? o.concurrency;
  const running = (kind: string) => runningByKind.get(kind) ?? 0;
  const buffered = (kind: string) => buffer.get(kind)?.length ?? 0;
  const bump = (k: string) => {
    more.set(k, true);
    cursors.delete(k);
    generation.set(k, (generation.get(k) ?? 0) + 1);
  };

  /** Ask for another exchange round soon (batched: many completions share one statement). */
  function tick(): void {
    if (cycleQueued || !started) return;
    cycleQueued = true;
    setImmediate(() => {
      cycleQueued = false;
      cycle();
    });
  }

  function nextWant(): { kind: string; n: number; after?: ClaimCursor } | null {
    if (stopping) return null;
    const kinds = [...defs.keys()];
    for (let i = 0; i < kinds.length; i++) {
      const kind = kinds[(rotation + i) % kinds.length] as string;
      if (!more.get(kind)) continue;
      const def = defs.get(kind) as AnyJobDefinition;
      const capacity = limit(kind) + (def.prefetch ?? 0);
      const free = capacity - running(kind) - buffered(kind) - (requested.get(kind) ?? 0);
      // Split the capacity between lanes so every statement in flight can both complete and claim.
      const n = Math.min(free, Math.ceil(capacity / LANES));
      if (n > 0) {
        rotation = (rotation + i + 1) % kinds.length;
        return { kind, n, after: cursors.get(kind) };
      }
    }
    return null;
  }

  /** Up to LANES statements in flight, each recording the completions so far and claiming for one kind. */
  function cycle(): void {
    if (!started || o.now() < pausedUntil) return;
    while (inflight < LANES) {
      const want = nextWant();
      const batch = pending.splice(0, 1000);
      if (!want && batch.length === 0) break;
      inflight += 1;
      const gen = want ? (generation.get(want.kind) ?? 0) : 0;
      if (want) requested.set(want.kind, (requested.get(want.kind) ?? 0) + want.n);
      exchangeJobs(
        o.db,
        o.workerId,
        batch.map((b) => ({ id: b.job.id, result: b.result, progressText: b.progressText })),
        want,
        o.leaseMs,
      )
        .then(({ completed, claimed, cursor }) => {
          const ok = new Set(completed);
          if (completed.length < batch.length) {
            o.log.warn(
              { lost: batch.filter((b) => !ok.has(b.job.id)).map((b) => b.job.id) },
              'lease lost before completion was recorded; another runner has these jobs',
            );
          }
          const recorded = batch.filter((b) => ok.has(b.job.id)).map((b) => b.job);
          if (recorded.length) o.recorded?.(recorded);
          if (want) {
            const full = claimed.length >= want.n;
            if ((generation.get(want.kind) ?? 0) === gen) {
              more.set(want.kind, full);
              if (full && cursor) cursors.set(want.kind, cursor);
              else cursors.delete(want.kind);
            }
            for (const job of claimed) {
              const list = buffer.get(job.kind) ?? [];
              list.push(job);
              buffer.set(job.kind, list);
            }
          }
          pump();
        })
        .catch((err) => {
          o.log.error({ err: errorMessage(err) }, 'job loop statement failed; retrying shortly');
          pending.unshift(...batch);
          if (want) {
            more.set(want.kind, true);
            cursors.delete(want.kind);
          }
          pausedUntil = o.now() + PAUSE_AFTER_ERROR_MS;
          setTimeout(tick, PAUSE_AFTER_ERROR_MS).unref();
        })
        .finally(() => {
          inflight -= 1;
          if (want) requested.set(want.kind, (requested.get(want.kind) ?? 0) - want.n);
          if (inflight === 0 && pending.length === 0) for (const d of drained.splice(0)) d();
          tick();
        });
    }
  }

  /** Start buffered jobs while their kind has free slots. */
  function pump(only?: string): void {
    if (stopping) return;
    for (const [kind, list] of buffer) {
      if (only !== undefined && kind !== only) continue;
      while (list.length > 0 && running(kind) < limit(kind)) {
        const job = list.shift() as Job;
        runningByKind.set(kind, running(kind) + 1);
        o.launch(job);
      }
    }
  }

  return {
    start() {
      started = true;
      tick();
    },
    stop() {
      stopping = true;
      const notStarted = [...buffer.values()].flat();
      buffer.clear();
      return notStarted;
    },
    wake(kind) {
      if (kind === undefined) for (const k of defs.keys()) bump(k);
      else if (defs.has(kind)) bump(kind);
      else return;
      tick();
    },
    complete(c) {
      pending.push(c);
      tick();
    },
    slotFreed(kind) {
      runningByKind.set(kind, Math.max(0, running(kind) - 1));
      pump(kind);
      if (more.get(kind)) tick();
    },
    flush() {
      if (inflight === 0 && pending.length === 0) return Promise.resolve();
      return new Promise((resolve) => {
        drained.push(resolve);
        tick();
      });
    },
    running: () => [...runningByKind.values()].reduce((a, b) => a + b, 0),
  };
}
