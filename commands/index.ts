import type { CommandDef } from '../src/chat/define-command';
import cancel from './cancel';
import cleanup from './cleanup';
import diagnose from './diagnose';
import exportCmd from './export';
import help from './help';
import job from './job';
import jobs from './jobs';
import models from './models';
import ping from './ping';
import push from './push';
import retry from './retry';
import source from './source';
import stats from './stats';
import template from './template';
import whoami from './whoami';

/** Every chat command, in the order /help lists them. Add new commands here. */
export const commands: CommandDef[] = [
  help,
  push,
  template,
  exportCmd,
  source,
  diagnose,
  models,
  jobs,
  job,
  cancel,
  retry,
  stats,
  cleanup,
  ping,
  whoami,
];
