import type { Config } from './config';
import type { Deps } from './deps';
import { createQueuedChatJob, createQueuedCommandJob } from './edge/queued-jobs';
import type { Translator } from './i18n';
import { cleanupJob } from './jobs/cleanup';
import type { AnyJobDefinition } from './jobs/types';
import type { PresetRegistry } from './push/presets';
import type { Publisher } from './push/publisher';
import { createPushJob } from './push/push-job';

/**
 * Every job kind and its handler; main.ts hands this list to the runner. Add new kinds here.
 * Handlers that need I/O ports get them here, from the process's Deps.
 */
export function createJobDefinitions(env: {
  config: Config;
  t: Translator;
  presets: PresetRegistry;
  publisher?: Publisher;
  now?: () => number;
  /** The process's Deps, read when a job runs (the queued edge kinds dispatch like the transports). */
  deps?: () => Deps;
}): AnyJobDefinition[] {
  const deps =
    env.deps ??
    (() => {
      throw new Error('the queued edge job kinds need the process Deps: pass deps to createJobDefinitions');
    });
  return [cleanupJob, createPushJob(env), createQueuedChatJob(deps), createQueuedCommandJob(deps)];
}
