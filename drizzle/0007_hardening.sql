CREATE TABLE "consumed_room_tickets" (
	"ticket_id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replicas" (
	"id" text PRIMARY KEY NOT NULL,
	"alive_until" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "wake_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "wake_lease_until" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "host_replica" text;--> statement-breakpoint
CREATE INDEX "rooms_wake_at_idx" ON "rooms" USING btree ("wake_at") WHERE "rooms"."wake_at" is not null;--> statement-breakpoint
CREATE INDEX "rooms_host_replica_idx" ON "rooms" USING btree ("host_replica") WHERE "rooms"."host_replica" is not null;--> statement-breakpoint
CREATE INDEX "participants_ghosts_idx" ON "participants" USING btree ("waiting_since") WHERE "participants"."status" = 'left' and "participants"."outcome" is null;