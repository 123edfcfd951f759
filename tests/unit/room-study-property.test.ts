import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { nextWakeup, type StudyEvent } from '../../src/lib/room/study';
import { ADVANCE_RULES, type DropoutPolicy, type Stage, type StageType } from '../../src/lib/study';
import {
	TestRoom,
	experimenter,
	makeStage,
	makeStudy,
	participant,
	system
} from '../support/room-study';

/**
 * "Every participant ends with exactly one outcome", whatever happens: random studies (within
 * the publish rules), random command sequences from every kind of actor, then a drive to the
 * end. Invariants are checked after every command.
 */

/** What an arbitrary generates. */
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const TYPES: StageType[] = [
	'instructions',
	'consent',
	'questionnaire',
	'chat',
	'timer',
	'group_choice',
	'wait'
];
const MEMBERS = ['a', 'b', 'c'];

const policyArb: fc.Arbitrary<DropoutPolicy> = fc.oneof(
	fc.record({
		policy: fc.constant('pause' as const),
		countdownSeconds: fc.integer({ min: 5, max: 60 }),
		then: fc.constantFrom('continue' as const, 'end' as const)
	}),
	fc.record({
		policy: fc.constant('continue' as const),
		minMembers: fc.integer({ min: 1, max: 3 })
	}),
	fc.record({ policy: fc.constant('end' as const) })
);

const stageArb = fc.record({
	type: fc.constantFrom(...TYPES),
	advance: fc.constantFrom(...ADVANCE_RULES),
	duration: fc.option(fc.integer({ min: 1, max: 120 }), { nil: null }),
	dropout: policyArb,
	consensus: fc.boolean()
});

function buildStages(specs: ValueOf<typeof stageArb>[]): Stage[] {
	return specs.map((spec, i) => {
		// Publishing requires a duration on timer-ruled and wait stages; so does the runtime.
		const needsDuration = spec.advance === 'timer' || spec.type === 'wait';
		const durationSeconds = spec.duration ?? (needsDuration ? 30 : null);
		const stage = makeStage(spec.type, `s${i}`, {
			advance: spec.advance,
			durationSeconds,
			dropout: spec.dropout
		});
		if (stage.type === 'timer') stage.content.blocks = [{ label: 'F', kind: 'focus', seconds: 7 }];
		if (stage.type === 'group_choice') stage.content.consensusRequired = spec.consensus;
		return stage;
	});
}

const commandArb = fc.oneof(
	fc.record({
		kind: fc.constant('submit' as const),
		who: fc.constantFrom(...MEMBERS),
		stale: fc.boolean(),
		/** An answer that does not fit the stage: refused, and nothing changes. */
		bad: fc.boolean()
	}),
	fc.record({
		kind: fc.constant('pick' as const),
		who: fc.constantFrom(...MEMBERS),
		option: fc.constantFrom('a', 'b')
	}),
	fc.record({ kind: fc.constant('decline' as const), who: fc.constantFrom(...MEMBERS) }),
	fc.record({
		kind: fc.constant('presence' as const),
		who: fc.constantFrom(...MEMBERS),
		present: fc.boolean()
	}),
	fc.record({
		kind: fc.constant('advance' as const),
		system: fc.boolean(),
		force: fc.boolean()
	}),
	// The monitor's interventions: take one member out with an outcome, or write to the room.
	fc.record({
		kind: fc.constant('remove' as const),
		who: fc.constantFrom(...MEMBERS),
		rare: fc.integer({ min: 0, max: 4 })
	}),
	fc.record({ kind: fc.constant('message' as const), to: fc.constantFrom(null, ...MEMBERS) }),
	fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const) }),
	fc.record({ kind: fc.constant('end' as const), rare: fc.integer({ min: 0, max: 9 }) }),
	fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 90_000 }) })
);
type Command = ValueOf<typeof commandArb>;

function run(room: TestRoom, command: Command): void {
	const stageId = room.state.finished ? 'done' : room.stageId;
	switch (command.kind) {
		case 'submit': {
			const before = room.state;
			const decision = room.send(participant(command.who), 'stage.submit', {
				stageId: command.stale ? 's0' : stageId,
				response: command.bad || room.state.finished ? { x: 1 } : room.sampleResponse(command.who)
			});
			if (command.bad) {
				expect(decision.ok).toBe(false);
				expect(room.state).toBe(before);
			}
			return;
		}
		case 'pick':
			room.send(participant(command.who), 'group_choice.pick', { stageId, option: command.option });
			return;
		case 'decline':
			room.send(participant(command.who), 'consent.decline', { stageId });
			return;
		case 'presence':
			room.send(system, 'member.presence', { memberId: command.who, present: command.present });
			return;
		case 'advance':
			room.send(command.system ? system : experimenter, 'stage.advance', {
				fromStageId: stageId,
				...(command.force ? { force: true } : {})
			});
			return;
		case 'remove':
			if (command.rare === 0) {
				room.send(experimenter, 'member.remove', { memberId: command.who, outcome: 'dropout' });
			}
			return;
		case 'message':
			room.send(experimenter, 'room.message', { text: 'hello', memberId: command.to });
			return;
		case 'pause':
			room.send(experimenter, 'room.pause');
			return;
		case 'resume':
			room.send(experimenter, 'room.resume');
			return;
		case 'end':
			// Rare, so most runs reach their ends through the stages.
			if (command.rare === 0) room.send(experimenter, 'room.end', { outcome: 'technical_error' });
			return;
		case 'tick':
			room.tickAt(room.now + command.ms);
			return;
	}
}

/** Plays along until the room finishes: everyone back, everyone answers, timers fire. */
function driveToEnd(room: TestRoom): void {
	for (let step = 0; step < 200 && !room.state.finished; step++) {
		if (room.state.paused) room.send(experimenter, 'room.resume');
		for (const id of MEMBERS) room.send(system, 'member.presence', { memberId: id, present: true });
		if (room.state.finished) break;
		const stageId = room.stageId;
		for (const id of MEMBERS) {
			room.send(participant(id), 'stage.submit', { stageId, response: room.sampleResponse(id) });
			room.send(participant(id), 'group_choice.pick', { stageId, option: 'a' });
		}
		room.send(experimenter, 'stage.advance', { fromStageId: room.stageId });
		const wake = nextWakeup(room.state);
		if (wake !== null) room.tickAt(Math.max(room.now, wake));
	}
}

function checkOutcomes(room: TestRoom): void {
	const outcomes = room.log.filter(
		(e): e is Extract<StudyEvent, { name: 'member.outcome' }> => e.name === 'member.outcome'
	);
	for (const id of MEMBERS) {
		const mine = outcomes.filter((e) => e.payload.memberId === id);
		expect(mine.length).toBeLessThanOrEqual(1);
		expect(room.outcomeOf(id)).toBe(mine[0]?.payload.outcome ?? null);
	}
	if (room.state.finished) {
		expect(Object.values(room.state.members).every((m) => m.outcome !== null)).toBe(true);
		expect(room.state.deadline).toBeNull();
	}
	expect(room.names().filter((n) => n === 'room.finished').length).toBeLessThanOrEqual(1);
}

const DATA_STAGES = new Set(['consent', 'questionnaire', 'group_choice']);

/**
 * Every data stage a member was in ends for them with exactly one record: an answer, a consent
 * declined, or `stage.incomplete`. Walks the log: who is in, and on which stage.
 */
function checkDataRecords(room: TestRoom): void {
	const stages = room.state.definition.stages;
	let index = 0;
	const out = new Set<string>();
	const answered = new Set<string>();
	const incomplete = new Map<string, number>();
	const declined = new Set<string>();
	const leave = (memberId: string) => {
		const stage = stages[index];
		if (!stage || !DATA_STAGES.has(stage.type) || out.has(memberId)) return;
		const key = `${memberId}/${stage.id}`;
		const records =
			Number(answered.has(key)) + (incomplete.get(key) ?? 0) + Number(declined.has(key));
		expect({ key, records }).toEqual({ key, records: 1 });
	};
	for (const event of room.log) {
		switch (event.name) {
			case 'stage.submitted':
			case 'group_choice.picked':
				answered.add(`${event.payload.memberId}/${event.payload.stageId}`);
				break;
			case 'stage.incomplete': {
				const key = `${event.payload.memberId}/${event.payload.stageId}`;
				incomplete.set(key, (incomplete.get(key) ?? 0) + 1);
				break;
			}
			case 'member.outcome':
				if (event.payload.outcome === 'no_consent' && stages[index]?.type === 'consent') {
					declined.add(`${event.payload.memberId}/${stages[index]!.id}`);
				}
				leave(event.payload.memberId);
				out.add(event.payload.memberId);
				break;
			case 'stage.advanced':
				for (const id of MEMBERS) leave(id);
				index = event.payload.toIndex;
				break;
		}
	}
}

describe('outcomes over random command sequences', () => {
	test('every member ends with exactly one outcome', () => {
		fc.assert(
			fc.property(
				fc.array(stageArb, { minLength: 1, maxLength: 5 }),
				fc.array(commandArb, { maxLength: 60 }),
				(specs, commands) => {
					const room = new TestRoom(makeStudy(buildStages(specs)), MEMBERS);
					for (const command of commands) {
						run(room, command);
						checkOutcomes(room);
					}
					driveToEnd(room);
					expect(room.state.finished).not.toBeNull();
					checkOutcomes(room);
					const logged = room.log.filter((e) => e.name === 'member.outcome').length;
					expect(logged).toBe(MEMBERS.length);
					checkDataRecords(room);
				}
			),
			{ numRuns: 400 }
		);
	});
});
