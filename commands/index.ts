import type { CommandDef } from '../src/chat/define-command';
import help from './help';
import ping from './ping';
import whoami from './whoami';

/** Every chat command, in the order /help lists them. Add new commands here. */
export const commands: CommandDef[] = [help, ping, whoami];
