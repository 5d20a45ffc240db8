import type { Config } from './config';
import { createExportJob } from './exports/export-job';
import type { SecretBox } from './exports/secret-box';
import { filesCleanupStep } from './files/cleanup';
import type { Translator } from './i18n';
import { createCleanupJob } from './jobs/cleanup';
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
  secrets: SecretBox;
  callbackSecret: string;
  now?: () => number;
}): AnyJobDefinition[] {
  return [createCleanupJob([filesCleanupStep(env)]), createPushJob(env), createExportJob(env)];
}
