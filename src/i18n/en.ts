import { enCore } from './en/core';
import { enEdge } from './en/edge';
import { enIntake } from './en/intake';
import { enJobs } from './en/jobs';
import { enPush } from './en/push';
import type { Catalog } from './zh-CN';

/** English chat text (LOCALE=en), one file per area under en/. Same keys as zh-CN.ts. */
export const en: Catalog = { ...enCore, ...enJobs, ...enPush, ...enIntake, ...enEdge };
