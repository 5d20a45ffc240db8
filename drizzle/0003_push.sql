CREATE TABLE "push_counters" (
	"name" text PRIMARY KEY NOT NULL,
	"value" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_runs" (
	"job_id" bigint PRIMARY KEY NOT NULL,
	"seq_start" bigint NOT NULL,
	"order_date" text NOT NULL,
	"confirmed" integer DEFAULT 0 NOT NULL,
	"republished" integer DEFAULT 0 NOT NULL,
	"first_order_no" text,
	"last_order_no" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_templates" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "push_templates_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"type" text NOT NULL,
	"args" jsonb NOT NULL,
	"owner" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "push_templates_name_uq" ON "push_templates" USING btree ("name");--> statement-breakpoint
INSERT INTO "push_counters" ("name", "value") VALUES ('order_no', 0) ON CONFLICT DO NOTHING;
