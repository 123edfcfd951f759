/**
 * Shared helpers for the study-room reducer tests: small studies built from the designer's
 * defaults, and a room driven like LiveRoom drives it (decide → fold the events) with a fake clock.
 */
import { expect } from 'bun:test';
import {
	applyStudyEvents,
	createStudyRoomState,
	decideStudy,
	nextWakeup,
	type Actor,
	type StudyDecision,
	type StudyEvent,
	type StudyRoomState
} from '../../src/lib/room/study';
import {
	createBlankStudy,
	createStage,
	resolveStageContent,
	type Stage,
	type StageResponse,
	type StageType,
	type StudyDefinition
} from '../../src/lib/study';
import { createRandom, sampleStageResponse } from '../../src/lib/study/answers-sample';

export const T0 = 1_000_000;
export const experimenter: Actor = { id: 'u:lead', role: 'experimenter' };
export const system: Actor = { id: 'system', role: 'system' };
export const participant = (id: string): Actor => ({ id, role: 'participant' });

/** A stage of `type` with the designer's defaults, an explicit id and `overrides` laid over. */
export function makeStage(type: StageType, id: string, overrides: Partial<Stage> = {}): Stage {
	return { ...createStage(type, []), id, ...overrides } as Stage;
}

/** A study of `stages` (an end stage is appended unless the list has one). */
export function makeStudy(
	stages: Stage[],
	edit?: (study: StudyDefinition) => void
): StudyDefinition {
	const study = createBlankStudy('Test');
	study.stages = stages.some((s) => s.type === 'end')
		? stages
		: [...stages, makeStage('end', 'end')];
	edit?.(study);
	return study;
}

/** A room with a fake clock, driven the way LiveRoom drives the reducer. */
export class TestRoom {
	state: StudyRoomState;
	now = T0;
	log: StudyEvent[] = [];

	constructor(definition: StudyDefinition, memberIds: string[] = ['a', 'b']) {
		this.state = createStudyRoomState({
			definition,
			version: 1,
			members: memberIds.map((id) => ({
				id,
				role: 'participant',
				condition: 'control',
				isBot: false
			})),
			now: this.now
		});
	}

	/** Decides at the current fake time and folds the events when accepted. */
	send(actor: Actor, name: string, payload: unknown = {}): StudyDecision {
		const decision = decideStudy(this.state, actor, { name, payload }, this.now);
		if (decision.ok) {
			this.state = applyStudyEvents(this.state, decision.events);
			this.log.push(...decision.events);
		}
		return decision;
	}

	/** Like `send`, but the command must be accepted; returns the event names. */
	ok(actor: Actor, name: string, payload: unknown = {}): string[] {
		const decision = this.send(actor, name, payload);
		if (!decision.ok) throw new Error(`${name} rejected: ${decision.reason} (${decision.message})`);
		return decision.events.map((event) => event.name);
	}

	/** The command must be rejected with `reason`; the state must not change. */
	rejects(actor: Actor, name: string, payload: unknown, reason: string): void {
		const before = this.state;
		const decision = this.send(actor, name, payload);
		expect(decision.ok ? 'accepted' : decision.reason).toBe(reason);
		expect(this.state).toBe(before);
	}

	/** `memberId` submits `response`, by default a valid answer to the stage as they see it. */
	submit(memberId: string, response: unknown = this.sampleResponse(memberId)): StudyDecision {
		return this.send(participant(memberId), 'stage.submit', { stageId: this.stageId, response });
	}

	/** A valid answer of `memberId` to the current stage (their variant), like a bot's. */
	sampleResponse(memberId: string, seed = 1): StageResponse {
		const stage = this.state.definition.stages[this.state.stageIndex]!;
		const member = this.state.members[memberId] ?? { role: null, condition: null };
		return sampleStageResponse(resolveStageContent(stage, member), createRandom(seed));
	}

	/** Moves the fake clock to `at` and ticks. */
	tickAt(at: number): StudyDecision {
		this.now = at;
		return this.send(system, 'tick', { now: at });
	}

	/** Advances the clock by `ms` (no tick). */
	wait(ms: number): void {
		this.now += ms;
	}

	/** Follows nextWakeup with ticks up to `until`, like a replica's timer would. */
	runTimersUntil(until: number): number[] {
		const fired: number[] = [];
		for (
			let wake = nextWakeup(this.state);
			wake !== null && wake <= until;
			wake = nextWakeup(this.state)
		) {
			this.now = Math.max(this.now, wake);
			fired.push(this.now);
			const decision = this.send(system, 'tick', { now: this.now });
			if (!decision.ok) throw new Error(`tick at ${this.now} did nothing: ${decision.reason}`);
		}
		this.now = Math.max(this.now, until);
		return fired;
	}

	get stageId(): string {
		return this.state.definition.stages[this.state.stageIndex]!.id;
	}

	outcomeOf(memberId: string) {
		return this.state.members[memberId]?.outcome;
	}

	names(): string[] {
		return this.log.map((event) => event.name);
	}
}
