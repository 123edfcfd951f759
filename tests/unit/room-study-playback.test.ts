import { describe, expect, test } from 'bun:test';
import { memberView, nextWakeup, START_LEAD_MS } from '../../src/lib/room/study';
import type { DropoutPolicy, Stage } from '../../src/lib/study';
import { targetMediaTime } from '../../src/lib/sync';
import {
	T0,
	TestRoom,
	experimenter,
	makeStage,
	makeStudy,
	participant,
	system
} from '../support/room-study';

/**
 * The synchronized video's schedule in the room: a start once everyone is buffered (or at the
 * buffer timeout), pause/play/seek by the experimenter or a control role, and the room's own
 * pauses carrying the video with them.
 */

const BUFFER_S = 20;

function videoStage(edit: (stage: Extract<Stage, { type: 'video' }>) => void = () => {}): Stage {
	const stage = makeStage('video', 'film', {
		advance: 'all_submitted',
		dropout: { policy: 'continue', minMembers: 1 }
	});
	if (stage.type !== 'video') throw new Error('not a video stage');
	stage.content.mediaId = 'media-1';
	stage.content.bufferTimeoutSeconds = BUFFER_S;
	edit(stage);
	return stage;
}

function videoRoom(stage = videoStage(), members = ['a', 'b']): TestRoom {
	return new TestRoom(
		makeStudy([stage, makeStage('instructions', 'after', { advance: 'experimenter' })], (study) => {
			study.settings.roles = [
				{ id: 'participant', name: 'Participant', minCount: 1, maxCount: null },
				{ id: 'host', name: 'Host', minCount: 0, maxCount: null }
			];
		}),
		members
	);
}

const buffered = (room: TestRoom, id: string) =>
	room.send(participant(id), 'media.buffered', { stageId: 'film' });
const control = (room: TestRoom, actor: Parameters<TestRoom['send']>[0], payload: object) =>
	room.send(actor, 'playback.control', { stageId: 'film', ...payload });

describe('the start', () => {
	test('waits for everyone buffered, then starts a moment ahead, from the beginning', () => {
		const room = videoRoom();
		expect(room.state.playback).toMatchObject({
			stageId: 'film',
			mediaId: 'media-1',
			schedule: null,
			bufferDeadline: T0 + BUFFER_S * 1000
		});
		expect(nextWakeup(room.state)).toBe(T0 + BUFFER_S * 1000);
		room.wait(3_000);
		expect(buffered(room, 'a')).toMatchObject({ ok: true });
		expect(room.state.playback?.schedule).toBeNull();
		expect(buffered(room, 'a')).toMatchObject({ ok: false, reason: 'no_change' });
		room.wait(500);
		buffered(room, 'b');
		expect(room.names().slice(-2)).toEqual(['media.buffered', 'playback.scheduled']);
		const start = T0 + 3_500 + START_LEAD_MS;
		expect(room.state.playback?.schedule).toEqual({
			mediaId: 'media-1',
			playing: true,
			anchorMediaTime: 0,
			anchorServerTime: start,
			rate: 1
		});
		// Nobody plays before the start; afterwards the target runs with the server clock.
		const schedule = room.state.playback!.schedule!;
		expect(targetMediaTime(schedule, start - 200)).toBe(0);
		expect(targetMediaTime(schedule, start + 2_500)).toBeCloseTo(2.5, 9);
		expect(nextWakeup(room.state)).toBeNull();
	});

	test('at the buffer timeout it starts with whoever is ready', () => {
		const room = videoRoom();
		buffered(room, 'a');
		room.rejects(system, 'tick', { now: T0 + 1_000 }, 'nothing_due');
		room.tickAt(T0 + BUFFER_S * 1000);
		const last = room.log.at(-1)!;
		expect(last).toMatchObject({
			name: 'playback.scheduled',
			payload: { cause: 'buffer_timeout', by: null }
		});
		expect(room.state.playback?.schedule?.anchorServerTime).toBe(
			T0 + BUFFER_S * 1000 + START_LEAD_MS
		);
	});

	test('a member who leaves no longer holds the start back', () => {
		const room = videoRoom();
		buffered(room, 'a');
		room.ok(system, 'member.presence', { memberId: 'b', present: false });
		expect(room.state.playback?.schedule?.playing).toBe(true);
		expect(room.outcomeOf('b')).toBe('dropout');
	});

	test('a video stage without media, and the stages after it, have no playback', () => {
		const room = videoRoom(videoStage((stage) => (stage.content.mediaId = null)));
		expect(room.state.playback).toBeNull();
		expect(buffered(room, 'a')).toMatchObject({ ok: false, reason: 'wrong_stage' });
		const played = videoRoom();
		buffered(played, 'a');
		buffered(played, 'b');
		played.submit('a');
		played.submit('b');
		expect(played.stageId).toBe('after');
		expect(played.state.playback).toBeNull();
	});
});

describe('control', () => {
	function startedRoom(stage?: Stage): TestRoom {
		const room = videoRoom(stage);
		room.state.members.b!.role = 'host';
		buffered(room, 'a');
		buffered(room, 'b');
		room.wait(START_LEAD_MS + 10_000);
		return room;
	}

	test('only the experimenter, unless the stage names control roles', () => {
		const room = startedRoom();
		expect(control(room, participant('b'), { action: 'pause' })).toMatchObject({
			ok: false,
			reason: 'control_not_allowed'
		});
		expect(memberView(room.state, 'b')?.playback?.canControl).toBe(false);
		const party = startedRoom(videoStage((stage) => (stage.content.controlRoles = ['host'])));
		expect(memberView(party.state, 'b')?.playback?.canControl).toBe(true);
		expect(memberView(party.state, 'a')?.playback?.canControl).toBe(false);
		expect(control(party, participant('b'), { action: 'pause' })).toMatchObject({ ok: true });
		expect(control(party, participant('a'), { action: 'play' })).toMatchObject({
			ok: false,
			reason: 'control_not_allowed'
		});
	});

	test('pause freezes where it is, play resumes a moment ahead, seek jumps for everyone', () => {
		const room = startedRoom();
		const now = room.now;
		control(room, experimenter, { action: 'pause' });
		expect(room.state.playback?.schedule).toMatchObject({
			playing: false,
			anchorServerTime: now
		});
		expect(room.state.playback!.schedule!.anchorMediaTime).toBeCloseTo(10, 9);
		expect(control(room, experimenter, { action: 'pause' })).toMatchObject({
			reason: 'no_change'
		});
		// Paused: a seek lands at once.
		control(room, experimenter, { action: 'seek', mediaTime: 42 });
		expect(targetMediaTime(room.state.playback!.schedule!, now + 5_000)).toBe(42);
		room.wait(1_000);
		control(room, experimenter, { action: 'play' });
		const resumed = room.state.playback!.schedule!;
		expect(resumed).toMatchObject({ playing: true, anchorMediaTime: 42 });
		expect(resumed.anchorServerTime).toBe(room.now + START_LEAD_MS);
		// Playing: a seek takes effect a moment ahead, so every member jumps to the same frame.
		room.wait(5_000);
		control(room, experimenter, { action: 'seek', mediaTime: 7 });
		const jumped = room.state.playback!.schedule!;
		expect(jumped.anchorServerTime).toBe(room.now + START_LEAD_MS);
		expect(targetMediaTime(jumped, room.now + START_LEAD_MS + 3_000)).toBeCloseTo(10, 9);
		expect(room.log.filter((e) => e.name === 'playback.scheduled').at(-1)).toMatchObject({
			payload: { cause: 'control', by: experimenter.id }
		});
	});

	test('refused before the start and while the room is paused', () => {
		const room = videoRoom();
		expect(control(room, experimenter, { action: 'pause' })).toMatchObject({
			reason: 'not_started'
		});
		const started = startedRoom();
		started.ok(experimenter, 'room.pause');
		expect(control(started, experimenter, { action: 'play' })).toMatchObject({ reason: 'paused' });
		expect(
			started.send(experimenter, 'playback.control', { stageId: 'film', action: 'seek' })
		).toMatchObject({ ok: false, reason: 'invalid_command' });
	});
});

describe("the room's pauses", () => {
	const pausing: DropoutPolicy = { policy: 'pause', countdownSeconds: 30, then: 'continue' };

	test('a dropout pause freezes the video; the member back plays it again a moment ahead', () => {
		const room = videoRoom(videoStage((stage) => (stage.dropout = pausing)));
		buffered(room, 'a');
		buffered(room, 'b');
		room.wait(START_LEAD_MS + 4_000);
		room.ok(system, 'member.presence', { memberId: 'b', present: false });
		expect(room.names().slice(-2)).toEqual(['room.paused', 'playback.scheduled']);
		const frozen = room.state.playback!.schedule!;
		expect(frozen.playing).toBe(false);
		expect(frozen.anchorMediaTime).toBeCloseTo(4, 9);
		room.wait(6_000);
		room.ok(system, 'member.presence', { memberId: 'b', present: true });
		expect(room.names().slice(-2)).toEqual(['room.resumed', 'playback.scheduled']);
		const again = room.state.playback!.schedule!;
		expect(again).toMatchObject({ playing: true, anchorServerTime: room.now + START_LEAD_MS });
		expect(again.anchorMediaTime).toBeCloseTo(4, 9);
	});

	test('a video the experimenter paused stays paused when the room resumes', () => {
		const room = videoRoom();
		buffered(room, 'a');
		buffered(room, 'b');
		room.wait(START_LEAD_MS + 2_000);
		// A pause and resume of the room first: the video stops and plays again.
		room.ok(experimenter, 'room.pause');
		room.ok(experimenter, 'room.resume');
		expect(room.state.playback?.schedule?.playing).toBe(true);
		room.wait(START_LEAD_MS + 1_000);
		// Then the experimenter pauses the video: the room's next resume leaves it paused.
		control(room, experimenter, { action: 'pause' });
		room.ok(experimenter, 'room.pause');
		room.ok(experimenter, 'room.resume');
		expect(room.names().at(-1)).toBe('room.resumed');
		expect(room.state.playback?.schedule?.playing).toBe(false);
	});
});
