import { describe, expect, test } from 'bun:test';
import {
	applyMonitorMessage,
	foldRoomEvents,
	listFinishedRooms,
	listRunningRooms,
	MAX_FINISHED_SHOWN,
	mergeQuality,
	parseMonitorClientMessage,
	recordQualitySample,
	summarizeQuality,
	summarizeRoom,
	SYNC_ERROR_WINDOW,
	tabulateCounts,
	watchRoom,
	type MonitorRoom,
	type MonitorServerMessage,
	type MonitorView,
	type WatchedRoom
} from '../../src/lib/monitor';
import type { RoomEvent } from '../../src/lib/protocol';
import { createStudyRoomState, type StudyEvent } from '../../src/lib/room/study';
import { OUTCOMES } from '../../src/lib/study';
import {
	T0,
	TestRoom,
	experimenter,
	makeStage,
	makeStudy,
	participant
} from '../support/room-study';

/**
 * The monitor's pure parts: a watched room folded from committed events with the room reducer
 * (the same state the room decided), its dashboard summary, members' latest quality from
 * telemetry, and the dashboard's fold of the frames.
 */

const definition = makeStudy([
	makeStage('questionnaire', 'q', { advance: 'all_submitted', durationSeconds: null }),
	makeStage('chat', 'talk', { advance: 'timer', durationSeconds: 60 })
]);

/** A room driven by the reducer, as LiveRoom drives it. */
function drive(): { room: TestRoom } {
	return { room: new TestRoom(definition, ['a', 'b']) };
}

function toLog(events: StudyEvent[], from = 1, at = T0): RoomEvent[] {
	return events.map((event, i) => ({
		seq: from + i,
		at: at + i,
		actor: 'x',
		name: event.name,
		payload: event.payload
	}));
}

function watched(): WatchedRoom {
	return watchRoom(
		'r-1',
		createStudyRoomState({
			definition,
			version: 3,
			now: T0,
			members: ['a', 'b'].map((id) => ({
				id,
				role: 'participant',
				condition: 'control',
				isBot: id === 'b'
			}))
		})
	);
}

describe('a watched room', () => {
	test('folds the log into the same state the room decided, and summarizes it', () => {
		const { room } = drive();
		room.ok(participant('a'), 'stage.submit', {
			stageId: 'q',
			response: { type: 'questionnaire', answers: { q: 6 }, rtMs: 0 }
		});
		const log = toLog(room.log);
		const folded = foldRoomEvents(watched(), log);
		expect(folded.ok).toBe(true);
		if (!folded.ok) return;
		// The same state as the room's own fold (the watched room marks member b as a bot).
		const { members, ...rest } = folded.room.shell.study;
		const { members: roomMembers, ...roomRest } = room.state;
		expect({ ...rest, version: 1 }).toEqual(roomRest);
		const asInRoom: typeof members = { ...members, b: { ...members.b!, isBot: false } };
		expect(asInRoom).toEqual(roomMembers);
		const summary = summarizeRoom(folded.room);
		expect(summary).toMatchObject({
			id: 'r-1',
			version: 3,
			condition: 'control',
			formedAt: T0,
			head: 1,
			updatedAt: T0,
			stage: { index: 0, count: 3, id: 'q', type: 'questionnaire', advance: 'all_submitted' },
			progress: { submitted: 1, of: 2 },
			paused: null,
			finished: null
		});
		expect(summary.members.map((m) => [m.label, m.submitted, m.isBot])).toEqual([
			['Member 1', true, false],
			['Member 2', false, true]
		]);
		// Answers never reach the dashboard.
		expect(JSON.stringify(summary)).not.toContain('"q":6');
	});

	test('skips events it has, applies what follows, refuses a gap', () => {
		const { room } = drive();
		room.ok(participant('a'), 'stage.submit', {
			stageId: 'q',
			response: { type: 'questionnaire', answers: { q: 1 }, rtMs: 0 }
		});
		room.ok(participant('b'), 'stage.submit', {
			stageId: 'q',
			response: { type: 'questionnaire', answers: { q: 1 }, rtMs: 0 }
		});
		const log = toLog(room.log);
		const first = foldRoomEvents(watched(), log.slice(0, 1));
		if (!first.ok) throw new Error('first fold failed');
		const again = foldRoomEvents(first.room, log.slice(0, 2));
		expect(again.ok && again.applied.map((e) => e.seq)).toEqual([2]);
		const gap = foldRoomEvents(first.room, log.slice(2));
		expect(gap).toEqual({ ok: false, reason: 'gap' });
		const nothing = foldRoomEvents(first.room, log.slice(0, 1));
		expect(nothing.ok && nothing.room).toBe(first.room);
	});

	test('shows stage changes, pauses, removals and the end as the reducer decided them', () => {
		const { room } = drive();
		room.ok(experimenter, 'stage.advance', { fromStageId: 'q', force: true });
		room.ok(experimenter, 'room.pause', {});
		let state = foldRoomEvents(watched(), toLog(room.log));
		if (!state.ok) throw new Error('fold failed');
		expect(summarizeRoom(state.room)).toMatchObject({
			stage: { index: 1, id: 'talk', type: 'chat', deadline: T0 + 60_000 },
			paused: { reason: 'experimenter', since: T0, missing: 0 }
		});
		const seen = room.log.length;
		room.ok(experimenter, 'room.resume', {});
		room.ok(experimenter, 'member.remove', { memberId: 'b', outcome: 'technical_error' });
		room.ok(experimenter, 'room.end', { outcome: 'completed' });
		state = foldRoomEvents(state.room, toLog(room.log.slice(seen), seen + 1, T0 + 5));
		if (!state.ok) throw new Error('fold failed');
		const summary = summarizeRoom(state.room);
		expect(summary.finished).toEqual({ at: T0, outcome: 'completed' });
		expect(summary.members.map((m) => m.outcome)).toEqual(['completed', 'technical_error']);
		expect(summary.updatedAt).toBe(T0 + 5 + room.log.length - seen - 1);
	});

	test('quality figures join the member rows', () => {
		const quality = recordQualitySample(
			undefined,
			{ kind: 'av.quality', value: { stageId: 's', connectionQuality: 'good', tracks: [] } },
			T0
		);
		const summary = summarizeRoom(watched(), new Map([['a', summarizeQuality(quality)]]));
		expect(summary.members[0]!.quality.av?.connection).toBe('good');
		expect(summary.members[1]!.quality).toEqual({ sync: null, av: null });
	});
});

const syncSample = (errorMs: number, phase = 'locked', offsetMs = 12) => ({
	kind: 'sync.quality',
	value: {
		stageId: 'v',
		errorMs,
		rate: 1,
		offsetMs,
		rttMs: 30,
		uncertaintyMs: 4,
		phase,
		seeks: 0
	}
});

describe('member quality', () => {
	test('sync: the latest clock figures and the median |error| of recent steady samples', () => {
		let state = recordQualitySample(undefined, syncSample(-10), T0);
		state = recordQualitySample(state, syncSample(30), T0 + 1000);
		state = recordQualitySample(state, syncSample(500, 'seeking', -7), T0 + 2000);
		expect(summarizeQuality(state).sync).toEqual({
			offsetMs: -7,
			errorP50Ms: 10,
			rttMs: 30,
			uncertaintyMs: 4,
			phase: 'seeking',
			at: T0 + 2000
		});
	});

	test('the median covers only the last window of samples', () => {
		let state = recordQualitySample(undefined, syncSample(1000), T0);
		for (let i = 0; i < SYNC_ERROR_WINDOW; i++)
			state = recordQualitySample(state, syncSample(5), T0);
		expect(state?.steadyErrors).toHaveLength(SYNC_ERROR_WINDOW);
		expect(summarizeQuality(state).sync?.errorP50Ms).toBe(5);
	});

	test('av: connection, losses summed, worst jitter, bitrates per direction', () => {
		const state = recordQualitySample(
			undefined,
			{
				kind: 'av.quality',
				value: {
					stageId: 'c',
					connectionQuality: 'poor',
					tracks: [
						{ kind: 'audio', direction: 'send', bitrateKbps: 32, packetsLost: 1, jitterMs: 4 },
						{ kind: 'video', direction: 'send', bitrateKbps: 600 },
						{
							kind: 'video',
							direction: 'receive',
							bitrateKbps: 450.5,
							packetsLost: 3,
							jitterMs: 21
						}
					]
				}
			},
			T0
		);
		expect(summarizeQuality(state).av).toEqual({
			connection: 'poor',
			packetsLost: 4,
			jitterMs: 21,
			sendKbps: 632,
			receiveKbps: 450.5,
			at: T0
		});
	});

	test('other kinds and invalid samples change nothing', () => {
		const state = recordQualitySample(undefined, syncSample(1), T0);
		expect(recordQualitySample(state, { kind: 'video.rating', value: {} }, T0)).toBe(state);
		expect(recordQualitySample(state, { kind: 'sync.quality', value: { errorMs: 'x' } }, T0)).toBe(
			state
		);
		expect(
			recordQualitySample(state, { kind: 'av.quality', value: { connectionQuality: 'meh' } }, T0)
		).toBe(state);
	});

	test('reports from several replicas: the newer wins, per kind', () => {
		const old = summarizeQuality(recordQualitySample(undefined, syncSample(1), T0));
		const newer = summarizeQuality(recordQualitySample(undefined, syncSample(2), T0 + 5));
		expect(mergeQuality(newer, old).sync?.at).toBe(T0 + 5);
		expect(mergeQuality(old, newer).sync?.at).toBe(T0 + 5);
		expect(mergeQuality(undefined, { sync: null, av: null })).toEqual({ sync: null, av: null });
	});
});

function room(id: string, formedAt: number, head = 1, finishedAt?: number): MonitorRoom {
	const summary = summarizeRoom({ ...watched(), id, formedAt });
	return {
		...summary,
		head,
		finished: finishedAt === undefined ? null : { at: finishedAt, outcome: 'completed' }
	};
}

const snapshot = (rooms: MonitorRoom[]): MonitorServerMessage => ({
	type: 'snapshot',
	v: 1,
	at: T0,
	rooms,
	waiting: { waiters: [], versions: [] },
	counts: []
});

describe("the dashboard's fold", () => {
	test('updates before the first snapshot are dropped; the snapshot replaces everything', () => {
		expect(applyMonitorMessage(null, { type: 'rooms', at: T0, rooms: [room('a', 1)] })).toBeNull();
		const view = applyMonitorMessage(null, snapshot([room('a', 2), room('b', 1)]))!;
		expect(listRunningRooms(view).map((r) => r.id)).toEqual(['b', 'a']);
		const fresh = applyMonitorMessage(view, snapshot([room('c', 1)]))!;
		expect(Object.keys(fresh.rooms)).toEqual(['c']);
	});

	test('a room update replaces the room unless it is older than what is shown', () => {
		let view = applyMonitorMessage(null, snapshot([room('a', 1, 5)])) as MonitorView;
		view = applyMonitorMessage(view, { type: 'rooms', at: T0 + 1, rooms: [room('a', 1, 4)] })!;
		expect(view.rooms.a!.head).toBe(5);
		view = applyMonitorMessage(view, {
			type: 'rooms',
			at: T0 + 2,
			rooms: [room('a', 1, 6, T0), room('n', 9)]
		})!;
		expect(view.rooms.a!.head).toBe(6);
		expect(listRunningRooms(view).map((r) => r.id)).toEqual(['n']);
		expect(listFinishedRooms(view).map((r) => r.id)).toEqual(['a']);
		expect(view.at).toBe(T0 + 2);
	});

	test('waiting and counts replace their parts; only the newest finished rooms are kept', () => {
		const many = Array.from({ length: MAX_FINISHED_SHOWN + 5 }, (_, i) =>
			room(`f${i}`, 1, 1, T0 + i)
		);
		let view = applyMonitorMessage(null, snapshot(many)) as MonitorView;
		const kept = listFinishedRooms(view);
		expect(kept).toHaveLength(MAX_FINISHED_SHOWN);
		expect(kept[0]!.id).toBe(`f${MAX_FINISHED_SHOWN + 4}`);
		const waiting = {
			waiters: [{ id: 'p', version: 1, waitingSince: T0, lastSeenAt: T0, isBot: false }],
			versions: []
		};
		view = applyMonitorMessage(view, { type: 'waiting', at: T0, waiting })!;
		expect(view.waiting).toBe(waiting);
		const counts = [{ outcome: 'completed' as const, condition: null, participants: 2, bots: 1 }];
		view = applyMonitorMessage(view, { type: 'counts', at: T0, counts })!;
		expect(view.counts).toBe(counts);
		expect(applyMonitorMessage(view, { type: 'error', code: 'invalid_message', message: '' })).toBe(
			view
		);
	});

	test('counts as an outcome × condition table', () => {
		const table = tabulateCounts(
			[
				{ outcome: 'dropout', condition: 'b', participants: 1, bots: 0 },
				{ outcome: 'completed', condition: 'a', participants: 4, bots: 2 },
				{ outcome: 'completed', condition: 'b', participants: 3, bots: 0 },
				{ outcome: 'lobby_timeout', condition: null, participants: 2, bots: 0 }
			],
			OUTCOMES,
			['b', 'a', 'unused']
		);
		expect(table.conditions).toEqual(['b', 'a', null]);
		expect(
			table.rows.map((row) => [row.outcome, row.cells.map((c) => c.participants), row.total])
		).toEqual([
			['completed', [3, 4, 0], 7],
			['lobby_timeout', [0, 0, 2], 2],
			['dropout', [1, 0, 0], 1]
		]);
		expect(table.rows[0]!.cells[1]).toEqual({ participants: 4, bots: 2 });
		expect(table.totals).toEqual([4, 4, 2]);
		expect(table.total).toBe(10);
	});
});

describe('client messages', () => {
	test('refresh is the only one', () => {
		expect(parseMonitorClientMessage('{"type":"refresh"}')).toEqual({
			ok: true,
			message: { type: 'refresh' }
		});
		expect(parseMonitorClientMessage('{"type":"refresh","x":1}').ok).toBe(false);
		expect(parseMonitorClientMessage('{"type":"join"}').ok).toBe(false);
		expect(parseMonitorClientMessage('nope').ok).toBe(false);
	});
});
