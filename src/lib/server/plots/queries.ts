/**
 * The plots' data from the database, behind the same access rules as the replay: a room's
 * plots need access to its study (any level), a study's plots too. The maths is in the pure
 * modules next to this one; this reads rows and passes them on.
 */
import { and, asc, eq, inArray, min, sql } from 'drizzle-orm';
import { labelMembers } from '../../room/study/timeline';
import { findRoomStartIndex } from '../../study/journey';
import type { StudyDefinition } from '../../study';
import { SYNC_QUALITY_KIND, VIDEO_RATING_KIND } from '../../sync/quality';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import {
	participants,
	roomEvents,
	roomMembers,
	rooms,
	studyVersions,
	telemetrySamples
} from '../db/schema';
import { findStudyRoomForUser } from '../replay/access';
import { createInitialState } from '../replay/replay';
import type { StudyRoomSetup } from '../rooms/study-rooms';
import { loadStudyForUser } from '../studies/access';
import { buildCoherencePlot, COHERENCE_KINDS } from './coherence-series';
import { computeFunnel } from './funnel';
import {
	listStageRuns,
	STAGE_EVENT_NAMES,
	summarizeStageDurations,
	type StageEvent,
	type StageRun
} from './stage-durations';
import { buildRatingsPlot, buildSyncPlot, type TelemetryRow } from './telemetry-series';
import type { FunnelPlot, RoomPlot, RoomPlotName, StageDurationsPlot } from './types';

/** A room's telemetry rows of some kinds, oldest first by the sender's clock. */
async function readTelemetry(
	db: Database,
	roomId: string,
	kinds: readonly string[]
): Promise<(TelemetryRow & { kind: string })[]> {
	const rows = await db
		.select({
			memberId: telemetrySamples.actor,
			kind: telemetrySamples.kind,
			clientTime: telemetrySamples.clientTime,
			receivedAt: telemetrySamples.receivedAt,
			value: telemetrySamples.value
		})
		.from(telemetrySamples)
		.where(and(eq(telemetrySamples.roomId, roomId), inArray(telemetrySamples.kind, [...kinds])))
		.orderBy(asc(telemetrySamples.clientTime));
	return rows.map((row) => ({ ...row, receivedAt: row.receivedAt.getTime() }));
}

/** The room's events of some names, in log order. */
async function readEventsNamed(
	db: Database,
	roomId: string,
	names: readonly string[]
): Promise<StageEvent[]> {
	const rows = await db
		.select({ name: roomEvents.name, at: roomEvents.at, payload: roomEvents.payload })
		.from(roomEvents)
		.where(and(eq(roomEvents.roomId, roomId), inArray(roomEvents.name, [...names])))
		.orderBy(asc(roomEvents.seq));
	return rows.map((row) => ({ ...row, at: row.at.getTime() }));
}

/** `M1`, `M2`, … as the replay labels them (founders, then later joiners). */
async function readMemberLabels(
	db: Database,
	roomId: string,
	setup: StudyRoomSetup
): Promise<Record<string, string>> {
	const joined = await readEventsNamed(db, roomId, ['member.joined']);
	const initial = createInitialState(setup);
	return labelMembers(
		initial,
		joined.map((event, i) => ({ seq: i + 1, actor: 'system', ...event }))
	);
}

const stageTitles = (definition: StudyDefinition) =>
	new Map(definition.stages.map((stage) => [stage.id, stage.title.trim() || stage.id]));

export type RoomPlotResult = { ok: true; plot: RoomPlot } | { ok: false; reason: 'not_found' };

/**
 * One plot of a study room: `ratings` (continuous ratings over media time), `sync` (sync
 * error, clock offset and round trip over the session), `coherence` (heart-rhythm coherence
 * over the session) or `stage-durations` (how long each stage ran in this room).
 */
export async function readRoomPlot(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	studyId: string,
	roomId: string,
	name: RoomPlotName
): Promise<RoomPlotResult> {
	const access = await findStudyRoomForUser(db, user, studyId, roomId);
	if (!access.ok) return access;
	return { ok: true, plot: await buildRoomPlot(db, roomId, access.setup, name) };
}

/** Several plots of one room after one access check (the room page draws them all). */
export async function readRoomPlots<N extends RoomPlotName>(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	studyId: string,
	roomId: string,
	names: readonly N[]
): Promise<{ ok: true; plots: Record<N, RoomPlot> } | { ok: false; reason: 'not_found' }> {
	const access = await findStudyRoomForUser(db, user, studyId, roomId);
	if (!access.ok) return access;
	const built = await Promise.all(
		names.map(async (name) => [name, await buildRoomPlot(db, roomId, access.setup, name)] as const)
	);
	return { ok: true, plots: Object.fromEntries(built) as Record<N, RoomPlot> };
}

async function buildRoomPlot(
	db: Database,
	roomId: string,
	setup: StudyRoomSetup,
	name: RoomPlotName
): Promise<RoomPlot> {
	const titles = stageTitles(setup.definition);
	if (name === 'stage-durations') {
		const events = await readEventsNamed(db, roomId, STAGE_EVENT_NAMES);
		const first = setup.definition.stages[setup.startStageIndex];
		const runs = first ? listStageRuns({ stageId: first.id, at: setup.formedAt }, events) : [];
		return { kind: 'stage-durations', stages: summarizeStageDurations(runs, titles) };
	}
	const labels = await readMemberLabels(db, roomId, setup);
	switch (name) {
		case 'ratings':
			return buildRatingsPlot(await readTelemetry(db, roomId, [VIDEO_RATING_KIND]), {
				labels,
				stageTitles: titles
			});
		case 'sync':
			return buildSyncPlot(await readTelemetry(db, roomId, [SYNC_QUALITY_KIND]), {
				labels,
				startedAt: setup.formedAt
			});
		case 'coherence':
			return buildCoherencePlot(await readTelemetry(db, roomId, COHERENCE_KINDS), {
				labels,
				startedAt: setup.formedAt
			});
	}
}

export type StudyPlots = { funnel: FunnelPlot; stageDurations: StageDurationsPlot };

export type StudyPlotsResult = { ok: true; plots: StudyPlots } | { ok: false; reason: 'not_found' };

/** The study's funnel and stage durations over all its rooms (any access to the study). */
export async function readStudyPlots(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	studyId: string
): Promise<StudyPlotsResult> {
	if (!(await loadStudyForUser(db, user, studyId))) return { ok: false, reason: 'not_found' };
	const versions = await db
		.select({ version: studyVersions.version, definition: studyVersions.definition })
		.from(studyVersions)
		.where(eq(studyVersions.studyId, studyId))
		.orderBy(asc(studyVersions.version));
	const definitions = new Map(
		versions.map((row) => [row.version, row.definition as StudyDefinition])
	);
	const [funnel, stageDurations] = await Promise.all([
		readFunnel(db, studyId, definitions),
		readStudyStageDurations(db, studyId, definitions)
	]);
	return { ok: true, plots: { funnel, stageDurations } };
}

/** Participants grouped by what the funnel asks of them, counted in the database. */
async function readFunnel(
	db: Database,
	studyId: string,
	definitions: Map<number, StudyDefinition>
): Promise<FunnelPlot> {
	const matched = sql<boolean>`(${participants.roomId} is not null or exists (
		select 1 from ${roomMembers} m where m.participant_id = ${participants.id}))`;
	const agreed = sql<boolean>`exists (
		select 1 from stage_responses r where r.participant_id = ${participants.id}
		and r.status = 'submitted' and r.response->>'type' = 'consent'
		and r.response->>'agreed' = 'true')`;
	const rows = await db
		.select({
			version: participants.version,
			isBot: participants.isBot,
			outcome: participants.outcome,
			matched,
			agreed,
			count: sql<number>`count(*)::int`
		})
		.from(participants)
		.where(eq(participants.studyId, studyId))
		// By position: the two flags are correlated subqueries, written once in the select list.
		.groupBy(sql`1, 2, 3, 4, 5`);
	const steps = computeFunnel(
		rows.map((row) => ({
			isBot: row.isBot,
			hasConsentStage:
				definitions.get(row.version)?.stages.some((stage) => stage.type === 'consent') ?? false,
			// postgres.js and PGlite both return booleans here; be lenient with 't'/'f' anyway.
			agreed: row.agreed === true || (row.agreed as unknown) === 't',
			matched: row.matched === true || (row.matched as unknown) === 't',
			outcome: row.outcome,
			count: Number(row.count)
		}))
	);
	return { kind: 'funnel', steps };
}

/** Stage durations over every room of the study, in the newest version's stage order. */
async function readStudyStageDurations(
	db: Database,
	studyId: string,
	definitions: Map<number, StudyDefinition>
): Promise<StageDurationsPlot> {
	const roomRows = await db
		.select({
			id: rooms.id,
			version: rooms.studyVersion,
			createdAt: rooms.createdAt,
			formedAt: min(roomMembers.joinedAt)
		})
		.from(rooms)
		.leftJoin(roomMembers, eq(roomMembers.roomId, rooms.id))
		.where(and(eq(rooms.studyId, studyId), eq(rooms.kind, 'study')))
		.groupBy(rooms.id, rooms.studyVersion, rooms.createdAt);
	const events = roomRows.length
		? await db
				.select({
					roomId: roomEvents.roomId,
					name: roomEvents.name,
					at: roomEvents.at,
					payload: roomEvents.payload
				})
				.from(roomEvents)
				.innerJoin(rooms, eq(rooms.id, roomEvents.roomId))
				.where(and(eq(rooms.studyId, studyId), inArray(roomEvents.name, [...STAGE_EVENT_NAMES])))
				.orderBy(asc(roomEvents.roomId), asc(roomEvents.seq))
		: [];
	const eventsOf = new Map<string, StageEvent[]>();
	for (const row of events) {
		const list = eventsOf.get(row.roomId) ?? [];
		eventsOf.set(row.roomId, list);
		list.push({ name: row.name, at: row.at.getTime(), payload: row.payload });
	}
	const runs: StageRun[] = [];
	for (const room of roomRows) {
		const definition = room.version === null ? undefined : definitions.get(room.version);
		const first = definition?.stages[findRoomStartIndex(definition)];
		if (!first) continue;
		// PGlite returns min() of a timestamp as text; postgres.js as a Date.
		const formed = room.formedAt ? new Date(room.formedAt as Date | string) : room.createdAt;
		runs.push(
			...listStageRuns({ stageId: first.id, at: formed.getTime() }, eventsOf.get(room.id) ?? [])
		);
	}
	// Titles from the newest version first, so a renamed stage shows its current name.
	const titles = new Map<string, string>();
	for (const definition of [...definitions.values()].reverse()) {
		for (const [id, title] of stageTitles(definition)) if (!titles.has(id)) titles.set(id, title);
	}
	const newest = [...definitions.values()].at(-1);
	const order = newest ? newest.stages.map((stage) => stage.id) : [...titles.keys()];
	return { kind: 'stage-durations', stages: summarizeStageDurations(runs, titles, order) };
}
