/** A chat line split into its command name, `key=value` arguments, positional words and body. */
export interface ParsedCommand {
  /** Lower-cased command word without the slash; '' when the message holds no command. */
  name: string;
  /** `key=value` pairs in the order typed; a repeated key's values are joined with ','. */
  args: Record<string, string>;
  /** Keys typed more than once (`store=12 store=13`): refused unless the command lists them. */
  repeated: string[];
  /** Words that are not `key=value`, after the command word. */
  positional: string[];
  /** Non-empty lines after the first (e.g. one diagnosis question per line), trimmed. */
  body: string[];
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '「': '」', '『': '』' };
const KEY = /^[\p{L}_][\p{L}\p{N}_.\-[\]]*$/u;

/**
 * Normalise what Chinese IMEs type: full-width ASCII (／＝，＊ and full-width letters/digits) and
 * the ideographic space become their ASCII forms. Chinese quotes are kept (they are quote marks).
 */
export function normalizeWidth(s: string): string {
  return s.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/[\u3000\u00A0\u2002-\u200B]/g, ' ');
}

/** Split a line into words, honouring ASCII and Chinese quotes (`q="a b"`, `“a b”`). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let close: string | null = null;
  for (const ch of line) {
    if (close !== null) {
      if (ch === close) close = null;
      else cur += ch;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    // A quote opens only at the start of a word or right after '=' (so O'Brien stays one word).
    const q = !inWord || cur.endsWith('=') ? QUOTES[ch] : undefined;
    if (q !== undefined) {
      close = q;
      inWord = true;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (inWord) out.push(cur); // an unterminated quote runs to the end of the line
  return out;
}

/**
 * Parse a chat message into a command. Pure and total: any string gives a result.
 * Leading @mentions are dropped, `/cmd` and `cmd` are the same, the first non-empty line
 * is the command line and the rest is the body.
 *
 * @example parseCommand('@bot /push refund store=12 sku=A001*2') // name 'push', positional ['refund']
 */
export function parseCommand(text: string): ParsedCommand {
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let first = -1;
  let words: string[] = [];
  for (let i = 0; i < lines.length && first < 0; i++) {
    words = tokenize(normalizeWidth(lines[i] ?? '').trim());
    while (words.length > 0 && /^@\S*$/.test(words[0] ?? '')) words.shift();
    if (words.length > 0) first = i;
  }
  const body =
    first < 0
      ? []
      : lines
          .slice(first + 1)
          .map((l) => l.trim())
          .filter((l) => l !== '');
  const result: ParsedCommand = { name: '', args: {}, repeated: [], positional: [], body };
  if (first < 0) return result;

  const [head = '', ...rest] = words;
  result.name = head.replace(/^\/+/, '').toLowerCase();
  for (const w of rest) {
    const eq = w.indexOf('=');
    const key = eq > 0 ? w.slice(0, eq) : '';
    if (key !== '' && KEY.test(key)) {
      const value = w.slice(eq + 1);
      // Own keys only: `toString=x` must not find Object.prototype.toString.
      const prev = Object.hasOwn(result.args, key) ? result.args[key] : undefined;
      result.args[key] = prev === undefined ? value : `${prev},${value}`;
      if (prev !== undefined && !result.repeated.includes(key)) result.repeated.push(key);
    } else {
      result.positional.push(w);
    }
  }
  return result;
}
