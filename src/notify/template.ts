import { UserError } from '../errors';
import { editDistance } from '../lib/edit-distance';

/**
 * The variables a notice template may use: the old export tool's six (`{task_name}` …) plus the
 * download link and what a failure notice needs. Values are filled as display text.
 */
export const NOTICE_VARIABLES = [
  'task_name',
  'execution_time',
  'date',
  'rows_count',
  'file_size',
  'duration',
  'filename',
  'download_url',
  'expires_at',
  'job_id',
  'requester',
  'status',
  'error',
] as const;
export type NoticeVariable = (typeof NOTICE_VARIABLES)[number];
export type NoticeValues = Partial<Record<NoticeVariable, string>>;

/** Short names people type out of habit; each stands for one variable. */
export const NOTICE_ALIASES: Readonly<Record<string, NoticeVariable>> = {
  task: 'task_name',
  rows: 'rows_count',
  url: 'download_url',
  link: 'download_url',
  expires: 'expires_at',
  size: 'file_size',
  time: 'execution_time',
  file: 'filename',
};

/** A parsed template: literal text and variable slots, in order. */
export type TemplatePart = { text: string } | { variable: NoticeVariable };
export interface NoticeTemplate {
  source: string;
  parts: TemplatePart[];
}

export const MAX_TEMPLATE_CHARS = 4000;

// `{name}` (the old tool's form) or `{{name}}` (mustache habit); spaces inside are allowed.
const SLOT = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}|\{\s*([A-Za-z_][\w.-]*)\s*\}/g;

/**
 * Parse and validate a template at save time. An unknown variable is a UserError naming it, the
 * closest known one and the full list; nothing else in the text is special (other braces stay text).
 * @example parseNoticeTemplate('### {task_name} 完成，共 {rows_count} 行')
 */
export function parseNoticeTemplate(source: string): NoticeTemplate {
  if (source.trim() === '') throw new UserError('bad_args', 'notify.template.empty', {}, 'template');
  if (source.length > MAX_TEMPLATE_CHARS)
    throw new UserError('bad_args', 'notify.template.tooLong', { max: MAX_TEMPLATE_CHARS, got: source.length }, 'template');
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of source.matchAll(SLOT)) {
    const name = (m[1] ?? m[2] ?? '').toLowerCase();
    const variable = resolveVariable(name);
    if (!variable) {
      const line = source.slice(0, m.index).split('\n').length;
      throw new UserError(
        'bad_args',
        'notify.template.unknownVariable',
        { name: m[0], line, near: nearest(name), allowed: NOTICE_VARIABLES.map((v) => `{${v}}`).join(' ') },
        'template',
      );
    }
    if (m.index > last) parts.push({ text: source.slice(last, m.index) });
    parts.push({ variable });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  return { source, parts };
}

/** The variables a template uses, each once (for a preview of what it needs). */
export function templateVariables(t: NoticeTemplate): NoticeVariable[] {
  return [...new Set(t.parts.flatMap((p) => ('variable' in p ? [p.variable] : [])))];
}

/**
 * Fill a parsed template. `escape` is applied to every value (not to the template's own text), so
 * a file name cannot inject markup; a variable without a value renders as `-`.
 */
export function fillNoticeTemplate(t: NoticeTemplate, values: NoticeValues, esc: (s: string) => string = (s) => s): string {
  return t.parts.map((p) => ('text' in p ? p.text : esc(values[p.variable] ?? '-'))).join('');
}

function resolveVariable(name: string): NoticeVariable | undefined {
  if ((NOTICE_VARIABLES as readonly string[]).includes(name)) return name as NoticeVariable;
  return NOTICE_ALIASES[name];
}

function nearest(name: string): string {
  // Short names count too ({rowz} is one edit from {rows}); the suggestion is the full name.
  const candidates: [string, NoticeVariable][] = [
    ...NOTICE_VARIABLES.map((v): [string, NoticeVariable] => [v, v]),
    ...Object.entries(NOTICE_ALIASES),
  ];
  let best: NoticeVariable = NOTICE_VARIABLES[0];
  let bestD = Number.POSITIVE_INFINITY;
  for (const [spelling, v] of candidates) {
    const d = editDistance(name, spelling);
    if (d < bestD) {
      best = v;
      bestD = d;
    }
  }
  return `{${best}}`;
}
