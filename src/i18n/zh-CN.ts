/**
 * The message catalog: every user-facing chat string, Simplified Chinese (the default locale).
 * `{name}` placeholders are filled by the translator. en.ts must have exactly the same keys.
 */
export const zhCN = {
  // dispatcher
  'dispatch.empty': '有什么可以帮你？发送 /help 查看所有命令。',
  'dispatch.unknown': '没有“{name}”这个命令。发送 /help 查看所有命令。',
  'dispatch.unknownWithSuggestion': '没有“{name}”这个命令，你是不是想用 {suggestions}？发送 /help 查看所有命令。',
  'dispatch.needsSubcommand': '/{name} 需要一个子命令：{subs}。例如发送 /help {name}。',
  'dispatch.forbidden': '/{command} 需要“{role}”权限，你当前是“{yours}”。如需开通请联系管理员。',
  'dispatch.rateLimited': '操作太频繁了：每人每分钟最多 {limit} 条命令，请 {seconds} 秒后再试。',
  'dispatch.unexpectedWord': '看不懂“{word}”。用法示例：{usage}',
  'dispatch.seeHelp': '发送 /help {command} 查看完整用法。',
  'dispatch.internalError': '处理命令时出错了，已记录（参考号 {ref}）。请稍后重试，或把参考号告诉管理员。',
  'dispatch.textOnly': '我只能理解文字命令。发送 /help 查看所有命令。',

  'role.viewer': '查看者',
  'role.operator': '操作员',
  'role.admin': '管理员',
  'conversation.single': '单聊',
  'conversation.group': '群聊',

  // argument errors
  'args.expect.number': '数字',
  'args.expect.boolean': 'true 或 false',
  'args.expect.list': '用逗号分隔的列表',
  'args.expect.text': '文字',
  'args.expect.nonEmpty': '非空的值',
  'args.expect.atLeastItems': '至少 {min} 项的列表',
  'args.expect.atMostItems': '最多 {max} 项的列表',
  'args.expect.min': '不小于 {min} 的数',
  'args.expect.max': '不大于 {max} 的数',
  'args.expect.maxLength': '不超过 {max} 个字符的文字',
  'args.expect.oneOf': '以下之一：{values}',
  'args.expect.format': '正确的格式',
  'args.unknown': '没有参数“{field}”。可用的参数：{valid}',
  'args.none': '（无）',
  'args.missing': '缺少参数 {field}（{desc}）。',
  'args.invalid': '参数 {field}（{desc}）应为{expected}{got}。',
  'args.got': '，收到的是“{value}”',
  'args.example': '例如：{example}',

  // help
  'help.title': '可用命令',
  'help.footer': '发送 /help <命令> 查看参数和示例，例如 /help push。参数写成 key=value，含空格的值用引号括起来。',
  'help.aliases': '别名：{aliases}',
  'help.role': '所需权限：{role}',
  'help.args': '参数：',
  'help.subcommands': '子命令：',
  'help.examples': '示例：',
  'help.required': '（必填）',
  'help.positional': '（可直接写值）',
  'help.flag': '（单独写 {name} 即为开启）',
  'help.default': '，默认 {value}',
  'help.argExample': '，例如 {example}',
  'help.needsRole': '（需要{role}权限）',

  'cmd.help.summary': '查看所有命令，或某个命令的用法',
  'cmd.help.arg.command': '要查看的命令名',
  'cmd.ping.summary': '检查机器人是否在线',
  'cmd.ping.pong': 'pong！机器人在线，数据库响应 {ms} ms。',
  'cmd.whoami.summary': '查看你的身份和权限',
  'cmd.whoami.user': '你是 {nick}（{id}）',
  'cmd.whoami.role': '权限：{role}',
  'cmd.whoami.conversation': '当前会话：{type} {id}',
  'cmd.whoami.noStaffId': '钉钉没有提供你的员工 ID（外部联系人？），所以只能使用默认权限。',
} as const;

/** The shape every locale's catalog has. */
export type Catalog = { readonly [K in keyof typeof zhCN]: string };
