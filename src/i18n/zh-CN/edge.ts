/** Text (Simplified Chinese) for the edge ingress: jobs that run what the Worker queued, its health. */
export const zhEdge = {
  'job.kind.chat_message': '边缘转来的消息',
  'job.kind.webhook_command': '边缘转来的 webhook 命令',
  'edge.queuedDone': '已处理边缘节点转来的消息（结果：{outcome}）。',
  'edge.queuedDuplicate': '这条消息已由其他实例处理，未重复执行。',
  'edge.commandDone': '已执行边缘节点转来的 webhook 命令（HTTP {status}）。',
  'edge.dbDown': '边缘节点连不上数据库（Hyperdrive 绑定 HYPERDRIVE）：请检查 wrangler.toml 里的 Hyperdrive 配置。',
} as const;
