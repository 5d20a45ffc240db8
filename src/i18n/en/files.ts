import type { zhFiles } from '../zh-CN/files';

/** Chat and download-page text (English) for stored files and their links. */
export const enFiles: { readonly [K in keyof typeof zhFiles]: string } = {
  'files.cleanup.done': 'Removed {n} expired files.',
  'files.forbidden': 'This download link is invalid (its signature does not match; it may have been altered). Use the link the bot sent.',
  'files.expired': 'This download link has expired and the file is no longer offered. Run the export again for a new link.',
  'files.removed': 'This file has been removed and is no longer offered. Run the export again for a new link.',
};
