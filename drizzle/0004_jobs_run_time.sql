ALTER TABLE "jobs" ADD COLUMN "error_info" jsonb;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "run_ms" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
-- hand-written: jobs finished before run_ms existed get their wall time, the best figure there is.
UPDATE "jobs" SET "run_ms" = greatest(0, (extract(epoch from "finished_at" - "started_at") * 1000)::bigint) WHERE "finished_at" IS NOT NULL AND "started_at" IS NOT NULL;
