import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { resolveCallbackSecret } from '../src/chat/callback-secret';
import { type Config, ConfigError, loadConfig } from '../src/config';
import { createLocalChat } from './local-chat';

// `npm run chat -- "/help"`: talk to the running bot as DingTalk would (signed callback in,
// replies on a local sessionWebhook). No argument: an interactive prompt.
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    user: { type: 'string', default: 'local-user' },
    nick: { type: 'string' },
    single: { type: 'boolean', default: false },
    wait: { type: 'string', default: '15' },
    quiet: { type: 'string', default: '1500' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: npm run chat -- [--url http://127.0.0.1:3000] [--user staffId] [--nick name] [--single] [--wait s] [--quiet ms] ["/command ..."]\n',
  );
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
const flush = () => {
  for (; printed < chat.replies.length; printed++) process.stdout.write(`${chat.replies[printed]?.text}\n\n`);
};

async function say(text: string): Promise<boolean> {
  try {
    const r = await chat.send(text);
    if (r.status !== 200) {
      process.stderr.write(`the bot answered HTTP ${r.status}: ${r.body}\n`);
      return false;
    }
    return true;
  } catch (err) {
    process.stderr.write(`cannot reach the bot at ${url} (${(err as Error).message}). Is it running (npm start)?\n`);
    return false;
  }
}

if (positionals.length > 0) {
  const ok = await say(positionals.join(' '));
  if (ok) {
    // Wait for the first reply, then until replies stop arriving for --quiet ms.
    const deadline = Date.now() + Number(values.wait) * 1000;
    let lastCount = -1;
    let lastChange = Date.now();
    while (Date.now() < deadline) {
      if (chat.replies.length !== lastCount) {
        lastCount = chat.replies.length;
        lastChange = Date.now();
      }
      if (lastCount > 0 && Date.now() - lastChange >= Number(values.quiet)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    flush();
    if (chat.replies.length === 0) process.stderr.write('no reply arrived\n');
  }
  await chat.close();
  process.exit(ok && chat.replies.length > 0 ? 0 : 1);
} else {
  process.stdout.write(`talking to ${url} as ${values.user}; type a command, Ctrl-D to quit\n`);
  const timer = setInterval(flush, 100);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  for await (const line of rl) {
    if (line.trim()) await say(line);
  }
  await new Promise((r) => setTimeout(r, 1000));
  flush();
  clearInterval(timer);
  await chat.close();
}
