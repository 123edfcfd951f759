import { describe, expect, test } from 'bun:test';
import {
	currentTimerBlock,
	memberView,
	nextWakeup,
	stageDurationMs
} from '../../src/lib/room/study';
import { T0, TestRoom, experimenter, makeStage, makeStudy } from '../support/room-study';

/** Timer stages with repeating focus/break blocks, driven by a fake clock and `tick`. */

function pomodoro(): TestRoom {
	const stage = makeStage('timer', 'focus', { advance: 'timer', durationSeconds: 1 });
	if (stage.type === 'timer') {
		stage.content.blocks = [
			{ label: 'Focus', kind: 'focus', seconds: 20 },
			{ label: 'Break', kind: 'break', seconds: 10 }
		];
		stage.content.repeat = 2;
	}
	return new TestRoom(makeStudy([stage, makeStage('chat', 'wrap', { advance: 'experimenter' })]));
}

describe('timer blocks', () => {
	test('the stage lasts blocks × repeat, whatever durationSeconds says', () => {
		const room = pomodoro();
		expect(stageDurationMs(room.state.definition.stages[0]!)).toBe(60_000);
		expect(room.state.deadline).toBe(T0 + 60_000);
		expect(room.state.timerBlock).toEqual({ round: 0, index: 0 });
	});

	test('ticks at each block boundary log the block; the deadline ends the stage', () => {
		const room = pomodoro();
		const fired = room.runTimersUntil(T0 + 60_000);
		expect(fired.map((t) => t - T0)).toEqual([20_000, 30_000, 50_000, 60_000]);
		const blocks = room.log
			.filter((e) => e.name === 'timer.block_started')
			.map((e) => e.payload as { round: number; index: number });
		expect(blocks.map(({ round, index }) => [round, index])).toEqual([
			[0, 1],
			[1, 0],
			[1, 1]
		]);
		expect(room.stageId).toBe('wrap');
		expect(room.state.timerBlock).toBeNull();
		expect(nextWakeup(room.state)).toBeNull();
	});

	test('currentTimerBlock follows the clock and stands still while paused', () => {
		const room = pomodoro();
		expect(currentTimerBlock(room.state, T0 + 25_000)).toMatchObject({
			round: 0,
			index: 1,
			remainingMs: 5_000,
			block: { kind: 'break' }
		});
		room.runTimersUntil(T0 + 25_000);
		room.ok(experimenter, 'room.pause');
		expect(nextWakeup(room.state)).toBeNull();
		expect(currentTimerBlock(room.state, T0 + 99_000)).toMatchObject({
			index: 1,
			remainingMs: 5_000
		});
		room.wait(100_000);
		room.ok(experimenter, 'room.resume');
		expect(room.state.deadline).toBe(T0 + 160_000);
		expect(currentTimerBlock(room.state, room.now)).toMatchObject({
			round: 0,
			index: 1,
			remainingMs: 5_000
		});
		expect(nextWakeup(room.state)).toBe(room.now + 5_000);
		expect(memberView(room.state, 'a')!.deadline).toBe(T0 + 160_000);
	});

	test('a late tick skips to the block running now', () => {
		const room = pomodoro();
		room.tickAt(T0 + 55_000);
		expect(room.state.timerBlock).toEqual({ round: 1, index: 1 });
	});
});
