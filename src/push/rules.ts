import { getPath, type Preset } from './preset-schema';

const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** A real wall-clock time written `yyyy-MM-dd HH:mm:ss` (no 2月30日, no 24:00:00). */
function isValidDatetime(s: string): boolean {
  const m = DATETIME.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
}

/** One field of a rendered message that breaks a preset's required fields or rules. */
export interface RuleProblem {
  path: string;
  check: string;
  value: unknown;
}

/** Fields of a rendered message that break the preset's required fields and rules. */
export function checkRules(p: Preset, body: Record<string, unknown>): RuleProblem[] {
  const problems: RuleProblem[] = [];
  for (const path of p.required) {
    const v = getPath(body, path);
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) problems.push({ path, check: 'required', value: v });
  }
  for (const rule of p.rules) {
    const v = getPath(body, rule.path);
    if (rule.check === 'required' && (v === undefined || v === null || v === ''))
      problems.push({ path: rule.path, check: 'required', value: v });
    if (rule.check === 'datetime') {
      if (!isValidDatetime(String(v ?? ''))) problems.push({ path: rule.path, check: 'datetime', value: v });
    }
    if (rule.check === 'positive' && !(typeof v === 'number' && v > 0)) problems.push({ path: rule.path, check: 'positive', value: v });
    if (rule.check === 'phone' && !/^1\d{10}$/.test(String(v ?? ''))) problems.push({ path: rule.path, check: 'phone', value: v });
  }
  return problems;
}

/**
 * JSON paths a user must give: the preset's required fields whose default is empty. A field a
 * generator fills (`refundNo: "{{refundNo}}"`) or with a usable default is never missing.
 */
export function userRequiredPaths(p: Preset): string[] {
  const paths = [...p.required, ...p.rules.filter((r) => r.check === 'required').map((r) => r.path)];
  return [...new Set(paths)].filter((path) => {
    const v = getPath(p.body, path);
    return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
  });
}
