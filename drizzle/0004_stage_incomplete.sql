ALTER TABLE "stage_responses" ALTER COLUMN "response" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "stage_responses" ADD COLUMN "status" text DEFAULT 'submitted' NOT NULL;--> statement-breakpoint
ALTER TABLE "stage_responses" ADD COLUMN "incomplete_reason" text;