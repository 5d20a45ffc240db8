import type { z } from 'zod';
import { hasMessage, type Translator } from '../i18n';
import { clipText } from '../lib/clip';
import { exampleOf } from './args';
import type { CommandDef } from './define-command';

/** One argument problem, ready to show: which field, what was expected, an example. */
export interface ArgProblem {
  field: string;
  text: string;
}

/** Longest piece of the user's own input a reply echoes back. */
export const ECHO_MAX = 40;

function shown(v: unknown): string {
  if (v === undefined) return '';
  return clipText(typeof v === 'string' ? v : JSON.stringify(v), ECHO_MAX);
}

/** What the issue says was expected, in the user's language. */
export function expectation(issue: z.core.$ZodIssue, t: Translator): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number' || issue.expected === 'int') return t('args.expect.number');
      if (issue.expected === 'boolean') return t('args.expect.boolean');
      if (issue.expected === 'array') return t('args.expect.list');
      return t('args.expect.text');
    case 'too_small':
      if (issue.origin === 'string') return t('args.expect.nonEmpty');
      if (issue.origin === 'array') return t('args.expect.atLeastItems', { min: String(issue.minimum) });
      return t('args.expect.min', { min: String(issue.minimum) });
    case 'too_big':
      if (issue.origin === 'string') return t('args.expect.maxLength', { max: String(issue.maximum) });
      if (issue.origin === 'array') return t('args.expect.atMostItems', { max: String(issue.maximum) });
      return t('args.expect.max', { max: String(issue.maximum) });
    case 'invalid_value':
      return t('args.expect.oneOf', { values: issue.values.map(String).join(', ') });
    case 'invalid_format':
      return t('args.expect.format');
    case 'custom': {
      const p = issue.params as { key?: string; vars?: Record<string, string> } | undefined;
      if (p?.key && hasMessage(p.key)) return t(p.key, p.vars);
      return issue.message;
    }
    case 'invalid_union': {
      // A value of several possible shapes (text, number or true/false): say what the first takes.
      const first = issue.errors[0]?.[0];
      return first ? expectation(first, t) : t('args.expect.text');
    }
    default:
      // Never zod's English in a reply.
      return t('args.expect.format');
  }
}

/**
 * Turn zod issues into one reply per problem. `input` is what was given (to tell "missing"
 * from "wrong" and to echo the value back).
 */
export function describeArgIssues(
  issues: readonly z.core.$ZodIssue[],
  def: CommandDef,
  input: Record<string, unknown>,
  t: Translator,
): ArgProblem[] {
  const shape = def.args.shape as Record<string, z.ZodType>;
  const valid = Object.keys(shape);
  const problems: ArgProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({
          field: clipText(key, ECHO_MAX),
          text: t('args.unknown', { field: clipText(key, ECHO_MAX), valid: valid.length ? valid.join(', ') : t('args.none') }),
        });
      }
      continue;
    }
    const field = String(issue.path[0] ?? '');
    const fieldSchema = shape[field];
    const descKey = `${def.catalogKey}.arg.${field}`;
    // A field without a description is named once ("参数 from", not "参数 from（from）").
    const desc = hasMessage(descKey) ? t(descKey) : undefined;
    const ex = fieldSchema ? exampleOf(fieldSchema) : undefined;
    const exampleText = ex === undefined ? '' : t('args.example', { example: `${field}=${ex}` });
    const given = input[field];
    if (given === undefined && issue.code === 'invalid_type') {
      problems.push({ field, text: (desc ? t('args.missing', { field, desc }) : t('args.missingBare', { field })) + exampleText });
      continue;
    }
    const got = given === undefined ? '' : t('args.got', { value: shown(given) });
    problems.push({
      field,
      text:
        (desc
          ? t('args.invalid', { field, desc, expected: expectation(issue, t), got })
          : t('args.invalidBare', { field, expected: expectation(issue, t), got })) + exampleText,
    });
  }
  return problems;
}
