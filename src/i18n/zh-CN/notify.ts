/** Chat text (Simplified Chinese) for notices: templates, delivery targets, delivery failures. */
export const zhNotify = {
  'notify.template.empty': '通知模板是空的。请写一段文字，可以用变量，例如：### {task_name} 执行完成 共 {rows_count} 行',
  'notify.template.tooLong': '通知模板太长：{got} 个字符，最多 {max} 个。',
  'notify.template.unknownVariable': '通知模板第 {line} 行的变量 {name} 不存在，你是不是想用 {near}？可用的变量：{allowed}',
  'notify.template.succeeded':
    '### 📊 {task_name} 执行完成\n\n**执行时间**: {execution_time}  \n**数据行数**: {rows_count}  \n**文件大小**: {file_size}  \n**执行耗时**: {duration}  \n**文件名称**: {filename}  \n\n[下载文件]({download_url})\n\n> 任务 #{job_id}，链接 {expires_at} 前有效，请及时下载。',
  'notify.template.failed':
    '### ❌ {task_name} 执行失败\n\n**执行时间**: {execution_time}  \n**执行耗时**: {duration}  \n**错误**: {error}\n\n> 任务 #{job_id}：发送 /job {job_id} 查看详情，修复后发送 /retry {job_id} 重新执行。',
  'notify.target.unknownKind':
    '投递目标类型“{kind}”不存在。可用类型：robot（群机器人）、requester（发起人所在会话）、group（应用机器人所在群）、email（邮件）。',
  'notify.target.badWebhook':
    '群机器人地址不对：应为 {base}/robot/send?access_token=…（在群设置 → 机器人 → 自定义机器人里复制 Webhook），收到的是“{value}”。',
  'notify.target.badSecret': '群机器人加签密钥应以 SEC 开头（群机器人安全设置 → 加签里复制），收到的不是。',
  'notify.target.badEmail': '邮件地址“{value}”不对，应为 name@example.com 这样的地址，多个用逗号分隔。',
  'notify.target.noEmail': '邮件目标至少要有一个收件人，例如 to=ops@example.com,dev@example.com',
  'notify.target.tooManyEmails': '一个邮件目标最多 {max} 个收件人，收到 {got} 个。',
  'notify.target.badGroup': '群会话 ID 应为 cid 开头的 openConversationId（在群里发送 /whoami 可以看到），收到的是“{value}”。',
  'notify.target.noRequester': '这个通知没有发起人会话（例如定时任务），requester 目标无处可发。请改用 group、robot 或 email 目标。',
  'notify.channel.robot': '群机器人 {label}',
  'notify.channel.conversation': '发起人会话',
  'notify.channel.group': '群 {label}',
  'notify.channel.email': '邮件 {label}',
  'notify.deliveryFailed': '⚠️ 通知投递失败（任务 #{jobId}）：{channel}，尝试 {attempts} 次，最后的错误：{error}。{hint}',
  'notify.hint.robotConfig': '请检查群机器人的 Webhook、加签密钥、关键词和 IP 白名单设置。',
  'notify.hint.robotGone': '群机器人已停用或被删除，或群已解散：请更新任务的投递目标。',
  'notify.hint.tooLong': '消息超过钉钉 20000 字节的上限，请缩短通知模板。',
  'notify.hint.smtp': '请检查 SMTP_* 配置和收件人地址。',
  'notify.hint.retryLater': '稍后可再次执行任务。',
} as const;
