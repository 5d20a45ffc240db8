import type { zhNotify } from '../zh-CN/notify';

/** Chat text (English) for notices: templates, delivery targets, delivery failures. */
export const enNotify: { readonly [K in keyof typeof zhNotify]: string } = {
  'notify.template.empty':
    'The notice template is empty. Write some text, with variables if you like, e.g.: ### {task_name} done, {rows_count} rows',
  'notify.template.tooLong': 'The notice template is too long: {got} characters, at most {max}.',
  'notify.template.unknownVariable':
    'Line {line} of the notice template uses {name}, which does not exist; did you mean {near}? Variables: {allowed}',
  'notify.template.succeeded':
    '### 📊 {task_name} finished\n\n**Run at**: {execution_time}  \n**Rows**: {rows_count}  \n**File size**: {file_size}  \n**Duration**: {duration}  \n**File**: {filename}  \n\n[Download]({download_url})\n\n> Job #{job_id}; the link is valid until {expires_at}, download it before then.',
  'notify.template.failed':
    '### ❌ {task_name} failed\n\n**Run at**: {execution_time}  \n**Duration**: {duration}  \n**Error**: {error}\n\n> Job #{job_id}: send /job {job_id} for details, /retry {job_id} to run it again once fixed.',
  'notify.target.unknownKind':
    'There is no delivery target kind "{kind}". Kinds: robot (group robot webhook), requester (the conversation that asked), group (a group the app robot is in), email.',
  'notify.target.badWebhook':
    'The group robot address is wrong: expected {base}/robot/send?access_token=… (copy the webhook from the group settings → robots → custom robot), got "{value}".',
  'notify.target.badSecret': 'The group robot signing secret starts with SEC (robot security settings → sign); this one does not.',
  'notify.target.badEmail':
    'The e-mail address "{value}" is not valid; expected something like name@example.com, several separated by commas.',
  'notify.target.noEmail': 'An e-mail target needs at least one recipient, e.g. to=ops@example.com,dev@example.com',
  'notify.target.tooManyEmails': 'An e-mail target takes at most {max} recipients, got {got}.',
  'notify.target.badGroup':
    'The group id is the openConversationId starting with cid (send /whoami in the group to see it), got "{value}".',
  'notify.target.noRequester':
    'This notice has no requesting conversation (e.g. a scheduled run), so a requester target has nowhere to go. Use a group, robot or email target.',
  'notify.channel.robot': 'group robot {label}',
  'notify.channel.conversation': 'the requesting conversation',
  'notify.channel.group': 'group {label}',
  'notify.channel.email': 'e-mail {label}',
  'notify.deliveryFailed': '⚠️ A notice could not be delivered (job #{jobId}): {channel}, {attempts} attempts, last error: {error}. {hint}',
  'notify.hint.robotConfig': "Check the group robot's webhook, signing secret, keywords and IP allow-list.",
  'notify.hint.robotGone': "The group robot is disabled or deleted, or the group was dissolved: update the task's delivery targets.",
  'notify.hint.tooLong': "The message is over DingTalk's 20,000-byte limit: shorten the notice template.",
  'notify.hint.smtp': 'Check the SMTP_* settings and the recipient addresses.',
  'notify.hint.retryLater': 'You can run the task again later.',
};
