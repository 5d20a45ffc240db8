export { createEmailSender, type EmailMessage, type EmailSender } from './email';
export { createNotices, type NoticeDeps, type Notices, type NoticeTuning } from './notices';
export { cleanupDeliveries, type DeliveryView, enqueueNotice, listDeliveries, type NoticeRequest, retryDelivery } from './outbox';
export { type RenderedNotice, renderNotice } from './render';
export { robotSign } from './robot';
export type { SecretBox } from './secret-box';
export {
  checkDeliveryTarget,
  createDeliveryTarget,
  type DeliveryTarget,
  type DeliveryTargetInput,
  describeTarget,
  normalizeTarget,
  parseRobotWebhook,
  type ResolvedTarget,
  type TaskTarget,
} from './targets';
export { NOTICE_ALIASES, NOTICE_VARIABLES, type NoticeTemplate, type NoticeVariable, parseNoticeTemplate } from './template';
export { formatBytes, formatDuration, type NoticeFacts, noticeValues } from './values';
