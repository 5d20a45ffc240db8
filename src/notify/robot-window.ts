import type { Database } from '../db/client';

/** Outcome of asking for a send slot: go now, or wait this long (never drop). */
export type Slot = { granted: true; stamp: string } | { granted: false; waitMs: number };

/**
 * Take one send slot for a robot in a sliding window shared by every instance (DingTalk allows 20
 * messages a minute per robot). One statement: the upsert's row lock serialises concurrent takers,
 * and the database clock is the only clock. A robot blocked after a 130101 gets no slot until then.
 */
export async function takeRobotSlot(db: Database, key: string, limit: number, windowMs: number): Promise<Slot> {
  const rows = await db.query<{ stamp: string | null }>(
    `with w as (
       insert into notice_robot_windows as w (robot_key, stamps) values ($1, array[clock_timestamp()])
       on conflict (robot_key) do update
         set stamps = array(select s from unnest(w.stamps) s where s > clock_timestamp() - make_interval(secs => $2::float8 / 1000) order by s)
                      || clock_timestamp()
         where (w.blocked_until is null or w.blocked_until <= clock_timestamp())
           and (select count(*) from unnest(w.stamps) s where s > clock_timestamp() - make_interval(secs => $2::float8 / 1000)) < $3::int
       returning w.stamps[array_length(w.stamps, 1)]::text as stamp
     ) select (select stamp from w) as stamp`,
    [key, windowMs, limit],
  );
  const stamp = rows[0]?.stamp;
  if (stamp) return { granted: true, stamp };
  const wait = await db.query<{ wait_ms: number | null }>(
    `select greatest(
       coalesce(extract(epoch from (blocked_until - clock_timestamp())) * 1000, 0),
       coalesce((select extract(epoch from (min(s) + make_interval(secs => $2::float8 / 1000) - clock_timestamp())) * 1000
                 from unnest(stamps) s where s > clock_timestamp() - make_interval(secs => $2::float8 / 1000)), 0)
     )::float8 as wait_ms
     from notice_robot_windows where robot_key = $1`,
    [key, windowMs],
  );
  return { granted: false, waitMs: Math.max(1, Math.ceil(Number(wait[0]?.wait_ms ?? 0))) };
}

/**
 * DingTalk said "too fast" (130101): block the robot for everyone, doubling with each strike from
 * `baseMs` up to `maxMs` (DingTalk's own block lasts up to 10 minutes). Answers to requests that were
 * already in flight when the block began do not count as new strikes. Returns the wait.
 */
export async function blockRobot(db: Database, key: string, baseMs: number, maxMs: number): Promise<number> {
  const rows = await db.query<{ wait_ms: number }>(
    `insert into notice_robot_windows as w (robot_key, strikes, blocked_until)
       values ($1, 1, clock_timestamp() + make_interval(secs => $2::float8 / 1000))
     on conflict (robot_key) do update
       set strikes = case when w.blocked_until > clock_timestamp() then w.strikes else w.strikes + 1 end,
           blocked_until = case when w.blocked_until > clock_timestamp() then w.blocked_until
             else clock_timestamp() + make_interval(secs => least($3::float8, $2::float8 * power(2, least(w.strikes, 20))) / 1000) end
     returning (extract(epoch from (blocked_until - clock_timestamp())) * 1000)::float8 as wait_ms`,
    [key, baseMs, maxMs],
  );
  return Math.max(1, Math.ceil(Number(rows[0]?.wait_ms ?? baseMs)));
}

/**
 * The request of a granted slot is over: move its stamp to now. DingTalk counts a message when it
 * arrives, which is after we took the slot; counting from the answer keeps a slow request from
 * letting the 21st message of a minute through.
 */
export async function settleRobotSlot(db: Database, key: string, stamp: string): Promise<void> {
  await db.query(
    'update notice_robot_windows set stamps = array_replace(stamps, $2::timestamptz, clock_timestamp()) where robot_key = $1',
    [key, stamp],
  );
}

/** A message went through: the next 130101 starts from the base block again. */
export async function clearRobotStrikes(db: Database, key: string): Promise<void> {
  await db.query('update notice_robot_windows set strikes = 0, blocked_until = null where robot_key = $1 and strikes > 0', [key]);
}
