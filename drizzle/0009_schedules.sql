CREATE TABLE "schedule_fires" (
	"schedule_id" bigint NOT NULL,
	"fire_at" timestamp with time zone NOT NULL,
	"outcome" text NOT NULL,
	"reason" text DEFAULT 'scheduled' NOT NULL,
	"job_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedule_fires_schedule_id_fire_at_pk" PRIMARY KEY("schedule_id","fire_at")
);
--> statement-breakpoint
CREATE TABLE "schedules" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "schedules_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"type" text NOT NULL,
	"cron" text,
	"timezone" text DEFAULT 'Asia/Shanghai' NOT NULL,
	"run_at" timestamp with time zone,
	"state" text DEFAULT 'active' NOT NULL,
	"misfire_grace_sec" integer DEFAULT 1800 NOT NULL,
	"overlap" text DEFAULT 'skip' NOT NULL,
	"reply_to" jsonb,
	"owner" text NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL,
	"last_fire_at" timestamp with time zone,
	"next_fire_at" timestamp with time zone,
	"checked_through" timestamp with time zone DEFAULT now() NOT NULL,
	"missed_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "schedule_fires_job_idx" ON "schedule_fires" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "schedules_name_uq" ON "schedules" USING btree ("name");