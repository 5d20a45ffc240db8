import type { Config } from './config';
import type { Deps } from './deps';
import { createDiagnosisJob } from './diagnosis/diagnosis-job';
import type { ModelSet } from './diagnosis/models';
import { createReportPublisher } from './diagnosis/xlsx-report';
import { createQueuedChatJob, createQueuedCommandJob } from './edge/queued-jobs';
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
  models: ModelSet;
  fetch: typeof fetch;
  callbackSecret: string;
  now: () => number;
  /** The process's Deps, read when a job runs (the queued edge kinds dispatch like the transports). */
  deps?: () => Deps;
}): AnyJobDefinition[] {
  const deps =
    env.deps ??
    (() => {
      throw new Error('the queued edge job kinds need the process Deps: pass deps to createJobDefinitions');
    });
  const reports = createReportPublisher({ ...env, fileName: (id) => env.t('diagnose.reportName', { id }) });
  return [
    createCleanupJob([filesCleanupStep(env)]),
    createPushJob(env),
    createDiagnosisJob({ ...env, reports }),
    createExportJob(env),
    createQueuedChatJob(deps),
    createQueuedCommandJob(deps),
  ];
}
