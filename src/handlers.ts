import { cleanupJob } from './jobs/cleanup';
import type { AnyJobDefinition } from './jobs/types';

/** Every job kind and its handler; main.ts hands this list to the runner. Add new kinds here. */
export const jobDefinitions: AnyJobDefinition[] = [cleanupJob];
