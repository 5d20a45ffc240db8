import type { Database } from '../db/client';
import type { OverlapPolicy, ScheduleState, ScheduleType } from '../db/schema';
import type { ReplyTarget } from '../outbound';

/** The NOTIFY channel every instance's scheduler listens on; the payload is the schedule id. */
export const CHANNEL_SCHEDULES = 'chatops_schedules';

/** A schedule row: its configuration and its state in one place. */
export interface Schedule {
  id: number;
  name: string;
  kind: string;
  payload: Record<string, unknown>;
  type: ScheduleType;
  cron: string | null;
  timezone: string;
  runAt: Date | null;
  state: ScheduleState;
  misfireGraceSec: number;
  overlap: OverlapPolicy;
  replyTo: ReplyTarget | null;
  owner: string;
  builtin: boolean;
  lastFireAt: Date | null;
  nextFireAt: Date | null;
  checkedThrough: Date;
  missedCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What `add` stores (everything else starts from the column defaults). */
export interface NewSchedule {
  name: string;
  kind: string;
  payload: Record<string, unknown>;
  type: ScheduleType;
  cron?: string | null;
  timezone: string;
  runAt?: Date | null;
  misfireGraceSec: number;
  overlap: OverlapPolicy;
  replyTo?: ReplyTarget | null;
  owner: string;
  builtin?: boolean;
  nextFireAt: Date | null;
}

type Row = Record<string, unknown>;
const date = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function toSchedule(r: Row): Schedule {
  return {
    id: Number(r.id),
    name: String(r.name),
    kind: String(r.kind),
    payload: json<Record<string, unknown>>(r.payload) ?? {},
    type: r.type as ScheduleType,
    cron: (r.cron as string | null) ?? null,
    timezone: String(r.timezone),
    runAt: date(r.run_at),
    state: r.state as ScheduleState,
    misfireGraceSec: Number(r.misfire_grace_sec),
    overlap: r.overlap as OverlapPolicy,
    replyTo: json<ReplyTarget | null>(r.reply_to) ?? null,
    owner: String(r.owner),
    builtin: Boolean(r.builtin),
    lastFireAt: date(r.last_fire_at),
    nextFireAt: date(r.next_fire_at),
    checkedThrough: date(r.checked_through) as Date,
    missedCount: Number(r.missed_count),
    createdAt: date(r.created_at) as Date,
    updatedAt: date(r.updated_at) as Date,
  };
}

/** Tell every instance's scheduler that a schedule changed (delivered at commit). */
export async function notifySchedules(db: Database, id: number | string): Promise<void> {
  await db.query(`select pg_notify($1, $2)`, [CHANNEL_SCHEDULES, String(id)]);
}

/** Every schedule, by name. */
export async function listSchedules(db: Database): Promise<Schedule[]> {
  return (await db.query<Row>(`select * from schedules order by name`)).map(toSchedule);
}

/** Schedules that may fire (active cron and date rows). */
export async function listFiring(db: Database): Promise<Schedule[]> {
  return (await db.query<Row>(`select * from schedules where state = 'active' and type in ('cron', 'date') order by id`)).map(toSchedule);
}

export async function getSchedule(db: Database, id: number): Promise<Schedule | null> {
  const [r] = await db.query<Row>(`select * from schedules where id = $1`, [id]);
  return r ? toSchedule(r) : null;
}

export async function getScheduleByName(db: Database, name: string): Promise<Schedule | null> {
  const [r] = await db.query<Row>(`select * from schedules where lower(name) = lower($1) order by name = $1 desc limit 1`, [name]);
  return r ? toSchedule(r) : null;
}

/** Insert a schedule; null when the name is taken. */
export async function insertSchedule(db: Database, s: NewSchedule): Promise<Schedule | null> {
  const rows = await db.query<Row>(
    `insert into schedules (name, kind, payload, type, cron, timezone, run_at, misfire_grace_sec, overlap, reply_to, owner, builtin, next_fire_at)
     values ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13)
     on conflict (name) do nothing
     returning *`,
    [
      s.name,
      s.kind,
      JSON.stringify(s.payload),
      s.type,
      s.cron ?? null,
      s.timezone,
      s.runAt ?? null,
      s.misfireGraceSec,
      s.overlap,
      s.replyTo ? JSON.stringify(s.replyTo) : null,
      s.owner,
      s.builtin ?? false,
      s.nextFireAt,
    ],
  );
  if (!rows[0]) return null;
  const created = toSchedule(rows[0]);
  await notifySchedules(db, created.id);
  return created;
}

/** Fields `edit` and the state actions may change. */
export interface SchedulePatch {
  kind?: string;
  payload?: Record<string, unknown>;
  type?: ScheduleType;
  cron?: string | null;
  timezone?: string;
  runAt?: Date | null;
  state?: ScheduleState;
  misfireGraceSec?: number;
  overlap?: OverlapPolicy;
  replyTo?: ReplyTarget | null;
  nextFireAt?: Date | null;
  /** Forget fires before now (a schedule switched on again does not catch up its time off). */
  resetChecked?: boolean;
}

const PATCH_COLUMNS: [keyof SchedulePatch, string, string?][] = [
  ['kind', 'kind'],
  ['payload', 'payload', 'jsonb'],
  ['type', 'type'],
  ['cron', 'cron'],
  ['timezone', 'timezone'],
  ['runAt', 'run_at', 'timestamptz'],
  ['state', 'state'],
  ['misfireGraceSec', 'misfire_grace_sec', 'int'],
  ['overlap', 'overlap'],
  ['replyTo', 'reply_to', 'jsonb'],
  ['nextFireAt', 'next_fire_at', 'timestamptz'],
];

/** Change a schedule (config or state) and tell the schedulers. Returns the row after the change. */
export async function updateSchedule(db: Database, id: number, patch: SchedulePatch): Promise<Schedule | null> {
  const sets = ['updated_at = now()'];
  const params: unknown[] = [id];
  for (const [key, col, cast] of PATCH_COLUMNS) {
    if (!(key in patch)) continue;
    const v = patch[key];
    params.push(cast === 'jsonb' ? (v === null ? null : JSON.stringify(v)) : v);
    sets.push(`${col} = $${params.length}${cast ? `::${cast}` : ''}`);
  }
  if (patch.resetChecked) sets.push('checked_through = now()');
  const [r] = await db.query<Row>(`update schedules set ${sets.join(', ')} where id = $1 returning *`, params);
  if (!r) return null;
  await notifySchedules(db, id);
  return toSchedule(r);
}

/** Remove a schedule and its fire records (its jobs stay, as history). */
export async function deleteSchedule(db: Database, id: number): Promise<boolean> {
  const rows = await db.query<{ id: number }>(
    `with d as (delete from schedules where id = $1 returning id), f as (delete from schedule_fires where schedule_id in (select id from d))
     select id from d`,
    [id],
  );
  if (rows.length > 0) await notifySchedules(db, id);
  return rows.length > 0;
}

/** A cheap fingerprint of every schedule's configuration, for the polling fallback of NOTIFY. */
export async function schedulesVersion(db: Database): Promise<string> {
  const [r] = await db.query<{ v: string }>(
    `select count(*)::text || '/' || coalesce(sum(id), 0)::text || '/' || coalesce(max(updated_at)::text, '') as v from schedules`,
  );
  return r?.v ?? '';
}
