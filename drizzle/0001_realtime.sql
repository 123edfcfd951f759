CREATE TABLE "app_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "room_events" (
	"room_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"actor" text NOT NULL,
	"name" text NOT NULL,
	"payload" jsonb NOT NULL,
	"client_id" text,
	CONSTRAINT "room_events_room_id_seq_pk" PRIMARY KEY("room_id","seq")
);
--> statement-breakpoint
CREATE TABLE "rooms" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"title" text,
	"head_seq" bigint DEFAULT 0 NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "telemetry_samples" (
	"room_id" text NOT NULL,
	"actor" text NOT NULL,
	"sample_id" text NOT NULL,
	"kind" text NOT NULL,
	"client_time" double precision NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL,
	"value" jsonb NOT NULL,
	CONSTRAINT "telemetry_samples_room_id_actor_sample_id_pk" PRIMARY KEY("room_id","actor","sample_id")
);
--> statement-breakpoint
ALTER TABLE "room_events" ADD CONSTRAINT "room_events_room_id_rooms_id_fk" FOREIGN KEY ("room_id") REFERENCES "public"."rooms"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rooms" ADD CONSTRAINT "rooms_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "room_events_client_id_idx" ON "room_events" USING btree ("room_id","actor","client_id") WHERE "room_events"."client_id" is not null;--> statement-breakpoint
CREATE INDEX "telemetry_samples_room_kind_idx" ON "telemetry_samples" USING btree ("room_id","kind");