import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Database } from '../../src/lib/server/db/database';
import { roomEvents, rooms, studies, studyVersions, users } from '../../src/lib/server/db/schema';
import { readCurrentStage, resolveRoomPosition } from '../../src/lib/server/livekit/current-stage';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';

// Which stage a study room is on now, from the log alone: the start stage until the first
// `stage.advanced`, then its `toIndex`; `room.finished` marks it over.

setDefaultTimeout(30_000);

/** consent (pre-room) → conversation (room start) → chat → end. */
function makeDefinition(): StudyDefinition {
	const study = createBlankStudy('Talk');
	const stage = (type: Stage['type'], id: string) => ({ ...createStage(type, []), id }) as Stage;
	study.stages = [
		stage('consent', 'consent'),
		stage('conversation', 'talk'),
		stage('chat', 'chat'),
		stage('end', 'end')
	];
	return study;
}

const advanced = (toIndex: number) => ({
	name: 'stage.advanced',
	payload: { fromStageId: 'x', toStageId: 'y', toIndex, at: 1, deadline: null, cause: 'timer' }
});
const finished = { name: 'room.finished', payload: { at: 2, outcome: 'completed' } };

describe('resolveRoomPosition', () => {
	const definition = makeDefinition();

	test('no advance yet: the room start (after the individual stages)', () => {
		expect(resolveRoomPosition(definition, [])).toEqual({ stageIndex: 1, finished: false });
	});

	test('the newest advance decides', () => {
		expect(resolveRoomPosition(definition, [advanced(2), advanced(1)])).toEqual({
			stageIndex: 2,
			finished: false
		});
	});

	test('finished, with the stage it finished on', () => {
		expect(resolveRoomPosition(definition, [finished, advanced(3)])).toEqual({
			stageIndex: 3,
			finished: true
		});
		expect(resolveRoomPosition(definition, [finished])).toEqual({ stageIndex: 1, finished: true });
	});
});

for (const target of databaseTargets('current stage tests')) {
	describe.skipIf(!target.available)(`readCurrentStage on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const now = new Date('2026-01-01T10:00:00Z');
		let seq = 0;

		async function append(roomId: string, event: { name: string; payload: unknown }) {
			seq += 1;
			await db.insert(roomEvents).values({ roomId, seq, at: now, actor: 'system', ...event });
		}

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
			await db
				.insert(users)
				.values({ id: 'u-1', email: 'r@t.test', name: 'R', passwordHash: 'x', role: 'researcher' });
			const definition = makeDefinition();
			await db.insert(studies).values({
				id: 's-1',
				slug: 'talk',
				ownerId: 'u-1',
				title: 'Talk',
				status: 'live',
				draft: definition,
				latestVersion: 1,
				createdAt: now,
				updatedAt: now
			});
			await db.insert(studyVersions).values({
				studyId: 's-1',
				version: 1,
				definition,
				contentHash: 'h',
				publishedAt: now
			});
			await db.insert(rooms).values([
				{ id: 'r-study', kind: 'study', studyId: 's-1', studyVersion: 1 },
				{ id: 'r-sandbox', kind: 'sandbox' },
				{ id: 'r-orphan', kind: 'study', studyId: 's-1', studyVersion: 9 }
			]);
		});
		afterAll(() => database?.dispose());

		test('a fresh room is on its start stage', async () => {
			const result = await readCurrentStage(db, 'r-study');
			expect(result.ok).toBe(true);
			if (!result.ok) return;
			expect(result.current).toMatchObject({
				studyId: 's-1',
				version: 1,
				stageIndex: 1,
				finished: false
			});
			expect(result.current.stage?.id).toBe('talk');
		});

		test('follows stage.advanced, ignoring other events after it', async () => {
			await append('r-study', { name: 'member.presence', payload: {} });
			await append('r-study', advanced(2));
			await append('r-study', { name: 'chat.sent', payload: {} });
			const result = await readCurrentStage(db, 'r-study');
			expect(result.ok && [result.current.stage?.id, result.current.finished]).toEqual([
				'chat',
				false
			]);
		});

		test('room.finished marks it over', async () => {
			await append('r-study', advanced(3));
			await append('r-study', finished);
			const result = await readCurrentStage(db, 'r-study');
			expect(result.ok && [result.current.stage?.id, result.current.finished]).toEqual([
				'end',
				true
			]);
		});

		test('sandbox, missing and version-less rooms are refused', async () => {
			expect(await readCurrentStage(db, 'r-sandbox')).toEqual({
				ok: false,
				reason: 'not_a_study_room'
			});
			expect(await readCurrentStage(db, 'r-none')).toEqual({
				ok: false,
				reason: 'not_a_study_room'
			});
			expect(await readCurrentStage(db, 'r-orphan')).toEqual({
				ok: false,
				reason: 'version_missing'
			});
		});
	});
}
