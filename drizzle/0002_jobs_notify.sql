-- Room on each page for HOT updates: a job's completion, heartbeats and progress touch no index.
ALTER TABLE jobs SET (fillfactor = 70);
--> statement-breakpoint
-- Wake idle runners the moment jobs are inserted: one NOTIFY per kind per statement (bulk enqueues
-- send one, not thousands). NOTIFY is delivered at commit, so a woken runner sees the rows.
CREATE FUNCTION chatops_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('chatops_jobs', k.kind) FROM (SELECT DISTINCT kind FROM new_jobs WHERE ready) AS k;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER chatops_jobs_notify_insert
  AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION chatops_jobs_notify();
