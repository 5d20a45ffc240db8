ALTER TABLE "push_runs" ADD COLUMN "install_tag" text;--> statement-breakpoint
ALTER TABLE "push_runs" ADD COLUMN "sent" integer;--> statement-breakpoint
ALTER TABLE "push_runs" ADD COLUMN "resent_on_retry" integer DEFAULT 0 NOT NULL;