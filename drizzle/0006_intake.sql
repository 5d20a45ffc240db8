ALTER TABLE "inbound_messages" ADD COLUMN "claimed_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "attempts" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "message" jsonb;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "request_hash" text;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "response" jsonb;--> statement-breakpoint
CREATE INDEX "inbound_messages_unfinished_idx" ON "inbound_messages" USING btree ("claimed_at") WHERE outcome = 'received';