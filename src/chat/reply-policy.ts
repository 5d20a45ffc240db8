import type { OutMessage } from '../outbound';

/** DingTalk's own hosts (mainland and international); replies go there over https only. */
const DINGTALK_DOMAINS = ['dingtalk.com', 'dingtalk.io'];

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * May the bot POST a reply to this URL? The sessionWebhook comes from the callback body, which
 * DingTalk's signature does not cover, so only https URLs on DingTalk's hosts pass, plus the hosts
 * in `extraHosts` (DINGTALK_REPLY_HOSTS: `host` or `host:port`), plus loopback while
 * `allowLoopback` (the generated local callback secret is in use, never a real app secret).
 */
export function isAllowedReplyUrl(url: string, policy: { extraHosts: readonly string[]; allowLoopback: boolean }): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  const host = u.hostname.toLowerCase();
  if (u.protocol === 'https:' && u.port === '' && DINGTALK_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`))) return true;
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
  const hostPort = u.port ? `${host}:${u.port}` : host;
  if (policy.extraHosts.some((h) => h.toLowerCase() === host || h.toLowerCase() === hostPort)) return true;
  return policy.allowLoopback && isLoopback(host);
}

/** Largest text DingTalk takes in one message: its body limit is about 20 000 bytes; keep room for JSON. */
export const MAX_REPLY_BYTES = 18_000;

/** Cut a message whose text is longer than DingTalk accepts, ending it with `note(cutChars)`. */
export function fitReply(m: OutMessage, note: (cut: number) => string, maxBytes = MAX_REPLY_BYTES): OutMessage {
  if (Buffer.byteLength(m.text, 'utf8') <= maxBytes) return m;
  const chars = [...m.text];
  const budget = maxBytes - Buffer.byteLength(note(chars.length), 'utf8');
  let bytes = 0;
  let keep = 0;
  for (const ch of chars) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > budget) break;
    bytes += b;
    keep += 1;
  }
  return { ...m, text: chars.slice(0, keep).join('') + note(chars.length - keep) };
}
