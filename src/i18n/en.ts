import { enCore } from './en/core';
import { enDiagnosis } from './en/diagnosis';
import { enEdge } from './en/edge';
import { enExports } from './en/exports';
import { enFiles } from './en/files';
import { enIntake } from './en/intake';
import { enJobs } from './en/jobs';
import { enNotify } from './en/notify';
import { enPush } from './en/push';
import type { Catalog } from './zh-CN';

/** English chat text (LOCALE=en), one file per area under en/. Same keys as zh-CN.ts. */
export const en: Catalog = {
  ...enCore,
  ...enJobs,
  ...enPush,
  ...enIntake,
  ...enEdge,
  ...enFiles,
  ...enDiagnosis,
  ...enExports,
  ...enNotify,
};
