/**
 * How much telemetry a study's rooms hold: samples and bytes per kind, for the Data tab. Bytes
 * are the stored rows' size as Postgres reports it (`pg_column_size` of each row: the values
 * after compression, without indexes), so the figure is the same on PGlite and Postgres.
 */
import { desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db';
import { rooms, telemetrySamples } from '../db/schema';

export type TelemetryStorage = {
	samples: number;
	bytes: number;
	/** Largest first. */
	kinds: { kind: string; samples: number; bytes: number }[];
};

/** One grouped query over the study's rooms' telemetry. */
export async function measureStudyTelemetry(
	db: Database,
	studyId: string
): Promise<TelemetryStorage> {
	const bytes =
		sql<number>`coalesce(sum(pg_column_size(${telemetrySamples}.*)), 0)::float8`.mapWith(Number);
	const kinds = await db
		.select({
			kind: telemetrySamples.kind,
			samples: sql<number>`count(*)::int`.mapWith(Number),
			bytes
		})
		.from(telemetrySamples)
		.innerJoin(rooms, eq(rooms.id, telemetrySamples.roomId))
		.where(eq(rooms.studyId, studyId))
		.groupBy(telemetrySamples.kind)
		.orderBy(desc(bytes));
	return {
		samples: kinds.reduce((sum, row) => sum + row.samples, 0),
		bytes: kinds.reduce((sum, row) => sum + row.bytes, 0),
		kinds
	};
}
