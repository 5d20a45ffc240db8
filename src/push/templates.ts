import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { pushTemplates } from '../db/schema';

/** A saved push: its order type and the arguments as typed (sku and count included). */
export interface PushTemplate {
  name: string;
  type: string;
  args: Record<string, string>;
  owner: string;
  updatedAt: Date;
}

const TEMPLATE_NAME = /^[\p{L}\p{N}_-]{1,40}$/u;

/** Whether a template name is usable (letters incl. Chinese, digits, _ and -, up to 40). */
export function isTemplateName(name: string): boolean {
  return TEMPLATE_NAME.test(name);
}

export async function getTemplate(db: Database, name: string): Promise<PushTemplate | null> {
  const [row] = await db.orm.select().from(pushTemplates).where(eq(pushTemplates.name, name));
  return row ? { name: row.name, type: row.type, args: row.args, owner: row.owner, updatedAt: row.updatedAt } : null;
}

export async function listTemplates(db: Database): Promise<PushTemplate[]> {
  const rows = await db.orm.select().from(pushTemplates).orderBy(asc(pushTemplates.name));
  return rows.map((row) => ({ name: row.name, type: row.type, args: row.args, owner: row.owner, updatedAt: row.updatedAt }));
}

/** Create or replace a template. Returns whether it existed. */
export async function saveTemplate(db: Database, t: Omit<PushTemplate, 'updatedAt'>): Promise<{ replaced: boolean }> {
  const rows = await db.query<{ inserted: boolean }>(
    `insert into push_templates (name, type, args, owner) values ($1, $2, $3::jsonb, $4)
     on conflict (name) do update set type = excluded.type, args = excluded.args, updated_at = now()
     returning (xmax = 0) as inserted`,
    [t.name, t.type, JSON.stringify(t.args), t.owner],
  );
  return { replaced: rows[0]?.inserted === false };
}

export async function deleteTemplate(db: Database, name: string): Promise<boolean> {
  const rows = await db.orm.delete(pushTemplates).where(eq(pushTemplates.name, name)).returning({ id: pushTemplates.id });
  return rows.length > 0;
}

const LAST = ['sku', 'count', 'queue'];

/** The /push line a template stands for: fields by name, then sku, count and queue. */
export function templateCommand(t: Pick<PushTemplate, 'type' | 'args'>): string {
  const entries = Object.entries(t.args).sort(([a], [b]) => LAST.indexOf(a) - LAST.indexOf(b) || a.localeCompare(b));
  const args = entries.map(([k, v]) => `${k}=${/\s/.test(v) ? `"${v}"` : v}`);
  return ['/push', t.type, ...args].join(' ');
}
