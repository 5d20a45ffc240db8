import { type Backoff, backoffDelay } from '../lib/backoff';
import { type ChatAnswer, ModelCallError } from './chat-client';
import type { ModelConfig } from './models';

/** One model × question call. */
export interface CallTask {
  model: string;
  questionIndex: number;
}

/** How a call ended after its retries. */
export type CallOutcome =
  | { ok: true; answer: ChatAnswer; latencyMs: number; tries: number }
  | { ok: false; error: string; retryable: boolean; tries: number };

export interface SchedulerOptions {
  tasks: CallTask[];
  models: readonly ModelConfig[];
  /** Calls in flight at once, all models together (when no shared `gates` are given). */
  concurrency: number;
  /**
   * Slots and rate windows shared by every run in this process, so two diagnoses running at once
   * still keep each model (and the total) within its limits. Without it, the run has its own.
   */
  gates?: CallGates;
  /** Aborts calls in flight and starts no more (cancel, hard timeout, lost lease). */
  signal: AbortSignal;
  /** One HTTP try of a task; throws ModelCallError (or the signal's reason). */
  call(task: CallTask, signal: AbortSignal): Promise<ChatAnswer>;
  /** Called once per task when it ends (answered, or out of tries); awaited before run() resolves. */
  onDone(task: CallTask, outcome: CallOutcome): Promise<void>;
  backoff?: Backoff;
  now?: () => number;
  random?: () => number;
}

const DEFAULT_BACKOFF: Backoff = { backoff: 'exponential', baseMs: 1000, maxMs: 30_000, jitter: 0.2 };

/**
 * Requests allowed per window, never exceeded as the server sees it: a request counts from when it
 * was sent until its answer came back (`settle` moves its mark to then), so neither connection
 * set-up nor the server's own clock can squeeze more than `limit` into any window it measures.
 */
export class SlidingWindow {
  // A request in flight holds its place (at = Infinity) until its answer comes back.
  private marks: { at: number }[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}
  /** The earliest time a request may start (now, if there is room). */
  nextFreeAt(now: number): number {
    this.marks = this.marks.filter((m) => m.at > now - this.windowMs);
    if (this.marks.length < this.limit) return now;
    const sorted = this.marks.map((m) => m.at).sort((a, b) => a - b);
    return (sorted[sorted.length - this.limit] as number) + this.windowMs;
  }
  /** Count a request sent now; call `settle` on the result when its answer (or error) arrives. */
  take(now: number): { settle(at: number): void } {
    const mark = { at: Number.POSITIVE_INFINITY };
    this.marks.push(mark);
    return {
      settle(at: number) {
        mark.at = Math.max(now, at);
      },
    };
  }
}

/** Concurrency slots (global and per model) and per-model rate windows, shareable between runs. */
export interface CallGates {
  concurrency: number;
  active: number;
  models: Map<string, { active: number; window: SlidingWindow }>;
  /** Runs waiting for a slot: each is told when any slot frees. */
  waiters: Set<() => void>;
}

/** Gates for one process (or one run), with `concurrency` calls in flight at most. */
export function createCallGates(concurrency: number): CallGates {
  return { concurrency, active: 0, models: new Map(), waiters: new Set() };
}

function modelGate(g: CallGates, m: ModelConfig) {
  let gate = g.models.get(m.name);
  if (!gate) {
    gate = { active: 0, window: new SlidingWindow(m.rpm, m.rateWindowMs) };
    g.models.set(m.name, gate);
  }
  return gate;
}

interface Pending {
  task: CallTask;
  tries: number;
  notBefore: number;
}

/**
 * Run every task under the global concurrency limit and each model's own concurrency and rate
 * limit. A retryable failure (429, 5xx, network, timeout) goes back in line after a backoff that
 * honours Retry-After, without holding a slot meanwhile. Resolves when every task has ended;
 * rejects with the signal's reason once aborted (after the calls in flight have stopped).
 */
export function runCalls(o: SchedulerOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const gates = o.gates ?? createCallGates(o.concurrency);
  const models = new Map(o.models.map((m) => [m.name, { cfg: m, gate: modelGate(gates, m) }]));
  const queue: Pending[] = o.tasks.map((task) => ({ task, tries: 0, notBefore: 0 }));
  const stores = new Set<Promise<void>>();
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let finished = false;

  return new Promise<void>((resolve, reject) => {
    const end = () => {
      finished = true;
      clearTimeout(timer);
      gates.waiters.delete(wake);
    };
    const settleIfDone = () => {
      if (finished) return;
      if (o.signal.aborted) {
        if (active > 0) return;
        end();
        void Promise.allSettled([...stores]).then(() => reject(o.signal.reason));
        return;
      }
      if (queue.length > 0 || active > 0) return;
      end();
      Promise.all([...stores]).then(() => resolve(), reject);
    };

    const store = (task: CallTask, outcome: CallOutcome) => {
      const p = o.onDone(task, outcome);
      stores.add(p);
      p.catch((err) => {
        // A lost answer cannot be told apart from an unanswered call later: stop the run.
        if (!finished) {
          end();
          reject(err);
        }
      }).finally(() => stores.delete(p));
    };

    const pump = () => {
      if (finished) return;
      if (o.signal.aborted) return settleIfDone();
      const t = now();
      let wakeAt = Number.POSITIVE_INFINITY;
      for (let i = 0; i < queue.length && gates.active < gates.concurrency; ) {
        const p = queue[i] as Pending;
        const m = models.get(p.task.model);
        if (!m) {
          queue.splice(i, 1);
          store(p.task, { ok: false, error: `model ${p.task.model} is not configured`, retryable: false, tries: p.tries });
          continue;
        }
        if (p.notBefore > t) {
          wakeAt = Math.min(wakeAt, p.notBefore);
          i++;
          continue;
        }
        if (m.gate.active >= m.cfg.concurrency) {
          i++;
          continue;
        }
        const free = m.gate.window.nextFreeAt(t);
        if (free > t) {
          wakeAt = Math.min(wakeAt, free);
          i++;
          continue;
        }
        queue.splice(i, 1);
        const mark = m.gate.window.take(t);
        m.gate.active += 1;
        gates.active += 1;
        active += 1;
        p.tries += 1;
        const started = performance.now();
        o.call(p.task, o.signal).then(
          (answer) => {
            mark.settle(now());
            release(m.gate);
            store(p.task, { ok: true, answer, latencyMs: Math.round(performance.now() - started), tries: p.tries });
            pump();
            settleIfDone();
          },
          (err: unknown) => {
            mark.settle(now());
            release(m.gate);
            if (!o.signal.aborted) {
              const retryable = err instanceof ModelCallError ? err.retryable : false;
              if (retryable && p.tries <= m.cfg.maxRetries) {
                const wait = Math.max(backoffDelay(backoff, p.tries, random()), (err as ModelCallError).retryAfterMs ?? 0);
                p.notBefore = now() + wait;
                queue.push(p);
              } else {
                store(p.task, { ok: false, error: (err as Error)?.message ?? String(err), retryable, tries: p.tries });
              }
            }
            pump();
            settleIfDone();
          },
        );
      }
      if (wakeAt < Number.POSITIVE_INFINITY && wakeAt < timerAt) {
        clearTimeout(timer);
        timerAt = wakeAt;
        timer = setTimeout(
          () => {
            timerAt = Number.POSITIVE_INFINITY;
            pump();
          },
          Math.max(0, wakeAt - now()),
        );
      }
      settleIfDone();
    };

    // A slot freed by this run or another one sharing the gates: every waiting run looks again.
    const release = (gate: { active: number }) => {
      gate.active -= 1;
      gates.active -= 1;
      active -= 1;
      for (const w of [...gates.waiters]) if (w !== wake) w();
    };
    const wake = () => pump();
    gates.waiters.add(wake);
    o.signal.addEventListener('abort', () => settleIfDone(), { once: true });
    pump();
  });
}
