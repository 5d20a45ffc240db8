CREATE TABLE "diagnosis_answers" (
	"job_id" bigint NOT NULL,
	"model" text NOT NULL,
	"question_index" integer NOT NULL,
	"ok" boolean NOT NULL,
	"text" text,
	"error" text,
	"latency_ms" integer,
	"prompt_tokens" integer,
	"completion_tokens" integer,
	"model_version" text,
	"tries" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "diagnosis_answers_job_id_model_question_index_pk" PRIMARY KEY("job_id","model","question_index")
);
--> statement-breakpoint
ALTER TABLE "diagnosis_answers" ADD CONSTRAINT "diagnosis_answers_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "diagnosis_answers_model_idx" ON "diagnosis_answers" USING btree ("model","created_at");