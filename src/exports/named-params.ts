/** SQL with `:name` placeholders turned into the driver's positional ones, and the names in order. */
export interface BoundSql {
  text: string;
  /** Parameter names in placeholder order (repeated for MySQL's `?`, once per number for Postgres). */
  order: string[];
  /** Every distinct name used. */
  names: string[];
}

/**
 * Replace `:name` placeholders with `$n` (Postgres) or `?` (MySQL) so the driver binds the values —
 * never spliced into the text. Skips string literals, quoted identifiers, comments, dollar quotes
 * and `::type` casts.
 */
export function bindNamed(sql: string, style: 'postgres' | 'mysql'): BoundSql {
  let out = '';
  const order: string[] = [];
  const index = new Map<string, number>();
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    const next = sql[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closing(sql, i, ch, style === 'mysql');
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === '$' && style === 'postgres' && /^\$[A-Za-z_]*\$/.test(sql.slice(i))) {
      const tag = (/^\$[A-Za-z_]*\$/.exec(sql.slice(i)) as RegExpExecArray)[0];
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end === -1 ? sql.length : end + tag.length;
      out += sql.slice(i, stop);
      i = stop;
    } else if (ch === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (ch === ':' && next !== undefined && /[A-Za-z_]/.test(next) && sql[i - 1] !== ':') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1)) as RegExpExecArray;
      const name = m[0];
      if (style === 'mysql') {
        out += '?';
        order.push(name);
      } else {
        let n = index.get(name);
        if (n === undefined) {
          order.push(name);
          n = order.length;
          index.set(name, n);
        }
        out += `$${n}`;
      }
      i += 1 + name.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return { text: out, order, names: [...new Set(order)] };
}

function closing(sql: string, start: number, quote: string, backslash: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    if (backslash && sql[i] === '\\') {
      i += 2;
      continue;
    }
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return sql.length;
}
