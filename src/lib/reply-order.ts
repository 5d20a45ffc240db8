/**
 * Keeps a job's own messages (progress, final result) behind the reply that announced the job, in
 * this process: a command's replies go out only once its outcome is stored, while the job it
 * started may already be done — a push that fails at once (no AMQP_URL) told its sender "failed"
 * before "accepted". `hold` is taken when the command has run and released once its replies are
 * sent; the relay waits on `after` before sending anything about that job. A hold is released after
 * `maxWaitMs` whatever happens, so a lost release delays messages but never stops them.
 */
export interface ReplyOrder {
  hold(jobId: number): () => void;
  after(jobId: number): Promise<void>;
}

export function createReplyOrder(maxWaitMs = 15_000): ReplyOrder {
  const held = new Map<number, Promise<void>>();
  return {
    hold(jobId) {
      let open: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const release = () => {
        clearTimeout(timer);
        if (held.get(jobId) === gate) held.delete(jobId);
        open();
      };
      const timer = setTimeout(release, maxWaitMs);
      timer.unref?.();
      held.set(jobId, gate);
      return release;
    },
    after: (jobId) => held.get(jobId) ?? Promise.resolve(),
  };
}
