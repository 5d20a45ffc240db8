/** Chat and download-page text (Simplified Chinese) for stored files and their links. */
export const zhFiles = {
  'files.cleanup.done': '删除了 {n} 个过期文件。',
  'files.forbidden': '下载链接无效（签名不符，可能被改动过）。请使用机器人发出的原始链接。',
  'files.expired': '下载链接已过期，文件已不再提供。请重新运行导出以获得新的链接。',
  'files.removed': '文件已被删除，不再提供下载。请重新运行导出以获得新的链接。',
} as const;
