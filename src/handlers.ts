import type { Config } from './config';
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
}): AnyJobDefinition[] {
  return [cleanupJob, createPushJob(env)];
}
