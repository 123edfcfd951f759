CREATE TYPE "public"."participant_status" AS ENUM('consenting', 'waiting', 'in_room', 'finished', 'left');--> statement-breakpoint
CREATE TABLE "open_rooms" (
	"room_id" text PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"code" text NOT NULL,
	"condition" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "open_rooms_code_unique" UNIQUE("code")
);
--> statement-breakpoint
CREATE TABLE "participant_external_ids" (
	"participant_id" text NOT NULL,
	"source" text NOT NULL,
	"name" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "participant_external_ids_participant_id_source_name_pk" PRIMARY KEY("participant_id","source","name")
);
--> statement-breakpoint
CREATE TABLE "room_members" (
	"room_id" text NOT NULL,
	"participant_id" text NOT NULL,
	"role" text,
	"condition" text,
	"joined_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "room_members_room_id_participant_id_pk" PRIMARY KEY("room_id","participant_id")
);
--> statement-breakpoint
CREATE TABLE "stage_responses" (
	"participant_id" text NOT NULL,
	"room_id" text,
	"study_id" text NOT NULL,
	"version" integer NOT NULL,
	"stage_id" text NOT NULL,
	"stage_index" integer NOT NULL,
	"response" jsonb NOT NULL,
	"client_id" text,
	"submitted_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "stage_responses_participant_id_stage_id_pk" PRIMARY KEY("participant_id","stage_id")
);
--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "token_hash" text NOT NULL;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "status" "participant_status" DEFAULT 'consenting' NOT NULL;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "room_id" text;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "role" text;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "condition" text;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "outcome_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "is_bot" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "last_seen_at" timestamp (3) with time zone NOT NULL;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "waiting_since" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "link_params" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "open_rooms" ADD CONSTRAINT "open_rooms_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "open_rooms" ADD CONSTRAINT "open_rooms_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "participant_external_ids" ADD CONSTRAINT "participant_external_ids_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "room_members" ADD CONSTRAINT "room_members_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "room_members" ADD CONSTRAINT "room_members_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_responses" ADD CONSTRAINT "stage_responses_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_responses" ADD CONSTRAINT "stage_responses_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_responses" ADD CONSTRAINT "stage_responses_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "open_rooms_study_idx" ON "open_rooms" USING btree ("study_id");--> statement-breakpoint
CREATE INDEX "participant_external_ids_value_idx" ON "participant_external_ids" USING btree ("source","name","value");--> statement-breakpoint
CREATE UNIQUE INDEX "room_members_participant_idx" ON "room_members" USING btree ("participant_id");--> statement-breakpoint
CREATE INDEX "stage_responses_study_idx" ON "stage_responses" USING btree ("study_id","version","stage_id");--> statement-breakpoint
ALTER TABLE "participants" ADD CONSTRAINT "participants_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "participants_waiting_idx" ON "participants" USING btree ("study_id","waiting_since") WHERE "participants"."status" = 'waiting';--> statement-breakpoint
CREATE INDEX "participants_room_idx" ON "participants" USING btree ("room_id");--> statement-breakpoint
ALTER TABLE "participants" ADD CONSTRAINT "participants_token_hash_unique" UNIQUE("token_hash");