import type { Config } from './config';
import { createDiagnosisJob } from './diagnosis/diagnosis-job';
import type { ModelSet } from './diagnosis/models';
import { createReportPublisher } from './diagnosis/xlsx-report';
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
  models: ModelSet;
  fetch: typeof fetch;
  callbackSecret: string;
  now: () => number;
}): AnyJobDefinition[] {
  const reports = createReportPublisher({ ...env, fileName: (id) => env.t('diagnose.reportName', { id }) });
  return [createCleanupJob([filesCleanupStep(env)]), createPushJob(env), createDiagnosisJob({ ...env, reports })];
}
