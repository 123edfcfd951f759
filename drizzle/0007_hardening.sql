CREATE TABLE "consumed_room_tickets" (
	"ticket_id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "wake_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "rooms" ADD COLUMN "wake_lease_until" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "rooms_wake_at_idx" ON "rooms" USING btree ("wake_at") WHERE "rooms"."wake_at" is not null;