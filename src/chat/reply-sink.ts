import type { OutMessage } from '../outbound';

/** Collects a command's replies; the transport delivers them (chat), returns them (webhook) or prints them (CLI). */
export interface ReplySink {
  readonly messages: OutMessage[];
  text(text: string): void;
  markdown(title: string, text: string): void;
  actionCard(title: string, text: string, buttons: { title: string; url: string }[]): void;
}

/** A fresh, empty ReplySink. */
export function createReplySink(): ReplySink {
  const messages: OutMessage[] = [];
  return {
    messages,
    text: (text) => void messages.push({ type: 'text', text }),
    markdown: (title, text) => void messages.push({ type: 'markdown', title, text }),
    actionCard: (title, text, buttons) => void messages.push({ type: 'actionCard', title, text, buttons }),
  };
}

/** Plain-text rendering of a message, for the CLI and logs. */
export function messageToText(m: OutMessage): string {
  if (m.type === 'text') return m.text;
  const buttons = m.type === 'actionCard' ? m.buttons.map((b) => `\n[${b.title}](${b.url})`).join('') : '';
  return `${m.text}${buttons}`;
}
