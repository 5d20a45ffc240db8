import { fillNoticeTemplate, type NoticeTemplate, type NoticeValues } from './template';

/** One notice rendered for every channel: DingTalk markdown, plain-text and HTML e-mail. */
export interface RenderedNotice {
  /** Notification title (DingTalk's markdown.title, the e-mail subject). */
  title: string;
  markdown: string;
  text: string;
  html: string;
}

// DingTalk rejects bodies over 20,000 bytes (460101); keep the markdown well under that.
const MAX_MARKDOWN_BYTES = 16_000;

/**
 * Render a template for all channels. Values are inserted verbatim into markdown (newlines folded
 * so a value cannot start a heading or a list) and HTML-escaped in the e-mail HTML.
 */
export function renderNotice(t: NoticeTemplate, values: NoticeValues, fallbackTitle: string): RenderedNotice {
  const markdown = truncateBytes(
    fillNoticeTemplate(t, values, (s) => s.replace(/\s*\n\s*/g, ' ')),
    MAX_MARKDOWN_BYTES,
  );
  const title = titleOf(markdown) || fallbackTitle;
  return { title, markdown, text: markdownToText(markdown), html: markdownToHtml(markdown) };
}

/** The first heading (or first line) without its markup: what a notification preview shows. */
export function titleOf(markdown: string): string {
  const first = markdown.split('\n').find((l) => l.trim() !== '') ?? '';
  return stripInline(first.replace(/^\s*(#{1,6}\s+|>\s*|[-*]\s+)/, ''))
    .trim()
    .slice(0, 120);
}

/** Markdown of DingTalk's subset as readable plain text: links become "text: url", emphasis goes. */
export function markdownToText(md: string): string {
  return md
    .split('\n')
    .map((l) => stripInline(l.replace(/^\s*#{1,6}\s+/, '').replace(/^\s*>\s?/, '')).replace(/\s+$/, ''))
    .join('\n');
}

function stripInline(s: string): string {
  return s
    .replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, '$2')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, text: string, url: string) => (text === url ? url : `${text}: ${url}`))
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/<font[^>]*>([^<]*)<\/font>/g, '$1');
}

/** Markdown of DingTalk's subset (headings, quotes, lists, bold, italic, links) as simple HTML. */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  let list: 'ul' | 'ol' | undefined;
  const closeList = () => {
    if (list) out.push(`</${list}>`);
    list = undefined;
  };
  for (const raw of md.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    const heading = /^\s*(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+\.\s+(.*)$/.exec(line);
    if (bullet || numbered) {
      const kind = bullet ? 'ul' : 'ol';
      if (list !== kind) {
        closeList();
        out.push(`<${kind}>`);
        list = kind;
      }
      out.push(`<li>${inlineHtml((bullet ?? numbered)?.[1] ?? '')}</li>`);
      continue;
    }
    closeList();
    if (heading) {
      const level = heading[1]?.length ?? 1;
      out.push(`<h${level}>${inlineHtml(heading[2] ?? '')}</h${level}>`);
    } else if (/^\s*>/.test(line)) out.push(`<blockquote>${inlineHtml(line.replace(/^\s*>\s?/, ''))}</blockquote>`);
    else if (/^\s*-{3,}\s*$/.test(line)) out.push('<hr>');
    else if (line.trim() !== '') out.push(`<p>${inlineHtml(line)}</p>`);
  }
  closeList();
  return `<!doctype html><html><body>${out.join('\n')}</body></html>`;
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function inlineHtml(s: string): string {
  return escapeHtml(s)
    .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2">$1</a>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
}

function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = s;
  while (Buffer.byteLength(out) > max - 3) out = out.slice(0, Math.floor(out.length * 0.9));
  return `${out}…`;
}
