CREATE TABLE "data_sources" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "data_sources_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"host" text NOT NULL,
	"port" integer NOT NULL,
	"database" text NOT NULL,
	"username" text NOT NULL,
	"password_enc" text,
	"key_id" text,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "export_tasks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "export_tasks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notice_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "notice_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"job_id" bigint,
	"channel" text NOT NULL,
	"target" jsonb NOT NULL,
	"message" jsonb NOT NULL,
	"announce_to" jsonb,
	"dedupe_key" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 8 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notice_robot_windows" (
	"robot_key" text PRIMARY KEY NOT NULL,
	"stamps" timestamp with time zone[] DEFAULT '{}' NOT NULL,
	"blocked_until" timestamp with time zone,
	"strikes" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "data_sources_name_uq" ON "data_sources" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "export_tasks_name_uq" ON "export_tasks" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "notice_deliveries_dedupe_uq" ON "notice_deliveries" USING btree ("dedupe_key") WHERE dedupe_key is not null;--> statement-breakpoint
CREATE INDEX "notice_deliveries_due_idx" ON "notice_deliveries" USING btree ("next_attempt_at") WHERE status in ('pending', 'sending');--> statement-breakpoint
CREATE INDEX "notice_deliveries_job_idx" ON "notice_deliveries" USING btree ("job_id");
--> statement-breakpoint
-- hand-written: the example export task over the built-in `app` source, so a new user gets a file on first try
INSERT INTO "export_tasks" ("name", "spec", "created_by") VALUES ('jobs-daily', '{"name": "jobs-daily", "title": "每日任务统计", "description": "Jobs by day, kind and outcome over a date range (the bot''s own database). The example task: try /export run jobs-daily", "source": "app", "sql": "select (created_at at time zone ''Asia/Shanghai'')::date as \"日期\", kind as \"类型\", status as \"结果\", count(*) as \"任务数\",\n       round(avg(extract(epoch from (finished_at - started_at)))::numeric, 3) as \"平均用时(秒)\",\n       min(created_at) as \"最早创建\", max(finished_at) as \"最晚完成\"\n  from jobs\n where created_at >= (:from)::date::timestamp at time zone ''Asia/Shanghai''\n   and created_at < ((:to)::date + 1)::timestamp at time zone ''Asia/Shanghai''\n group by 1, 2, 3\n order by 1, 2, 3", "params": [{"name": "from", "type": "date", "default": "today-6", "required": false}, {"name": "to", "type": "date", "default": "today", "required": false}], "timezone": "Asia/Shanghai", "fileName": "任务统计_{from}_{to}", "sheet": "任务统计", "format": "xlsx", "rowLimit": 100000, "timeoutMs": 60000, "allowed": [], "targets": [{"type": "requester"}]}'::jsonb, 'system') ON CONFLICT DO NOTHING;
