import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { resolveCallbackSecret } from '../src/chat/callback-secret';
import { type Config, ConfigError, loadConfig } from '../src/config';
import { createLocalChat, finalJobId, type LocalChat } from './local-chat';

// `npm run chat -- "/help"`: talk to the running bot as DingTalk would (signed callback in,
// replies on a local sessionWebhook). No argument: an interactive prompt.
const USAGE = `usage: npm run chat -- [options] ["/command ..."]
  --url URL            the bot (default http://127.0.0.1:$PORT)
  --user ID            your staff id (default local-user); --nick NAME; --single for a 1:1 chat
  --wait S             seconds to wait for the first reply (default 15)
  --quiet MS           then stop once no reply came for this long (default 1500)
  --follow             follow the job the command started (or the first job a reply names) to its
                       final message; the default when the bot says the command started a job
  --no-follow          print the first replies only, even when a job was started
  --follow-timeout S   give up following after this long (default 600)
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    user: { type: 'string', default: 'local-user' },
    nick: { type: 'string' },
    single: { type: 'boolean', default: false },
    wait: { type: 'string', default: '15' },
    quiet: { type: 'string', default: '1500' },
    follow: { type: 'boolean', default: false },
    'no-follow': { type: 'boolean', default: false },
    'follow-timeout': { type: 'string', default: '600' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** Write to stdout and wait until it is flushed: a pipe (`| wc -c`) gets everything before exit. */
const out = (text: string) => new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
const exit = async (code: number, chat?: LocalChat) => {
  await chat?.close();
  await out('');
  process.exit(code);
};

if (values.help) {
  await out(USAGE);
  process.exit(0);
}
let config: Config;
try {
  config = loadConfig(process.env);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}
const url = values.url ?? `http://127.0.0.1:${config.PORT}`;
const chat = await createLocalChat({
  url,
  secret: resolveCallbackSecret(config).secret,
  staffId: values.user,
  nick: values.nick,
  conversationType: values.single ? 'single' : 'group',
  robotCode: config.robotCode,
});
let printed = 0;
const flush = async () => {
  for (; printed < chat.replies.length; printed++) await out(`${chat.replies[printed]?.text}\n\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function say(text: string): Promise<{ ok: boolean; jobId?: number }> {
  try {
    const r = await chat.send(text);
    if (r.status !== 200) {
      process.stderr.write(`the bot answered HTTP ${r.status}: ${r.body}\n`);
      return { ok: false };
    }
    return { ok: true, jobId: r.jobId };
  } catch (err) {
    process.stderr.write(`cannot reach the bot at ${url} (${(err as Error).message}). Is it running (npm start)?\n`);
    return { ok: false };
  }
}

/** Wait for the first reply (up to --wait), then until replies stop for --quiet ms. */
async function collectReplies(from: number): Promise<void> {
  const firstBy = Date.now() + Number(values.wait) * 1000;
  while (chat.replies.length === from && Date.now() < firstBy) await sleep(50);
  let seen = chat.replies.length;
  let lastChange = Date.now();
  while (chat.replies.length > from && Date.now() - lastChange < Number(values.quiet)) {
    await sleep(50);
    if (chat.replies.length !== seen) {
      seen = chat.replies.length;
      lastChange = Date.now();
    }
    await flush();
  }
}

/** Print replies as they come until the job's final message (or --follow-timeout). */
async function follow(jobId: number, from: number): Promise<boolean> {
  process.stderr.write(`following job #${jobId} to its final message (--no-follow to stop after the first replies)\n`);
  const by = Date.now() + Number(values['follow-timeout']) * 1000;
  while (Date.now() < by) {
    await flush();
    if (chat.replies.slice(from).some((r) => finalJobId(r) === jobId)) return true;
    await sleep(50);
  }
  process.stderr.write(`job #${jobId} sent no final message within ${values['follow-timeout']} s; see /job ${jobId}\n`);
  return false;
}

if (positionals.length > 0) {
  const from = chat.replies.length;
  const r = await say(positionals.join(' '));
  if (!r.ok) await exit(1, chat);
  await collectReplies(from);
  await flush();
  // Follow by default when the bot says the command started a job; --follow also follows a job a reply names.
  const named = values.follow
    ? Number(
        /#(\d+)/.exec(
          chat.replies
            .slice(from)
            .map((x) => x.text)
            .join('\n'),
        )?.[1],
      )
    : Number.NaN;
  const jobId = r.jobId ?? (Number.isSafeInteger(named) ? named : undefined);
  let ok = chat.replies.length > from;
  if (!ok) process.stderr.write('no reply arrived\n');
  if (
    ok &&
    jobId !== undefined &&
    !values['no-follow'] &&
    finalJobId(chat.replies[chat.replies.length - 1] ?? { body: {}, text: '', at: 0 }) !== jobId
  ) {
    ok = await follow(jobId, from);
  }
  await flush();
  await exit(ok ? 0 : 1, chat);
} else {
  await out(`talking to ${url} as ${values.user}; type a command, Ctrl-D to quit\n`);
  const timer = setInterval(() => void flush(), 100);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  for await (const line of rl) {
    if (line.trim()) {
      const from = chat.replies.length;
      const r = await say(line);
      if (r.ok) await collectReplies(from);
    }
  }
  clearInterval(timer);
  await flush();
  await exit(0, chat);
}
