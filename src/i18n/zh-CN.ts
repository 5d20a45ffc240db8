import { zhCore } from './zh-CN/core';
import { zhDiagnosis } from './zh-CN/diagnosis';
import { zhEdge } from './zh-CN/edge';
import { zhExports } from './zh-CN/exports';
import { zhFiles } from './zh-CN/files';
import { zhIntake } from './zh-CN/intake';
import { zhJobs } from './zh-CN/jobs';
import { zhNotify } from './zh-CN/notify';
import { zhPush } from './zh-CN/push';

/**
 * The message catalog: every user-facing chat string, Simplified Chinese (the default locale), one
 * file per area under zh-CN/ (each with its English twin under en/). `{name}` placeholders are filled
 * by the translator. en.ts must have exactly the same keys (the types enforce it).
 */
export const zhCN = {
  ...zhCore,
  ...zhJobs,
  ...zhPush,
  ...zhIntake,
  ...zhEdge,
  ...zhFiles,
  ...zhDiagnosis,
  ...zhExports,
  ...zhNotify,
} as const;

/** The shape every locale's catalog has. */
export type Catalog = { readonly [K in keyof typeof zhCN]: string };
