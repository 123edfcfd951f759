/**
 * Dropout policies: what the room does when a member is gone past the grace period, when they
 * come back, and when a pause countdown runs out. The policy is the current stage's; a paused
 * room never changes stage, so the policy that paused it is still the one in force at expiry.
 */
import type { EventDraft } from './draft';
import { finishRoom, settleRoom } from './progress';
import { currentStage, listActiveMembers, type StudyPause } from './state';

function giveDropout(draft: EventDraft, memberIds: readonly string[]): void {
	for (const memberId of memberIds) {
		if (draft.state.members[memberId]?.outcome !== null) continue;
		draft.emit({
			name: 'member.outcome',
			payload: { memberId, outcome: 'dropout', at: draft.now }
		});
	}
}

function emitPause(draft: EventDraft, pause: StudyPause): void {
	draft.emit({ name: 'room.paused', payload: pause });
}

/** Lifts the pause; the stage timer resumes with the time it had left. */
function emitResume(draft: EventDraft, pause: StudyPause): void {
	draft.emit({
		name: 'room.resumed',
		payload: { at: draft.now, pausedMs: Math.max(0, draft.now - pause.since) }
	});
}

/** A member still in went absent (already folded in): the current stage's policy acts. */
export function handleAbsence(draft: EventDraft, memberId: string): void {
	const policy = currentStage(draft.state)?.dropout ?? { policy: 'end' as const };
	switch (policy.policy) {
		case 'pause': {
			const pause = draft.state.paused;
			// The countdown runs from when they left (their last socket closed), so the grace
			// that tells a reload from a departure is part of the wait, not added to it. A second
			// leaver gets a full countdown too; the room waits for the later deadline.
			const leftAt = draft.state.members[memberId]?.disconnectedAt ?? draft.now;
			const countdownEnd = Math.max(draft.now, leftAt + policy.countdownSeconds * 1000);
			emitPause(draft, {
				since: pause?.since ?? draft.now,
				resumeDeadline: Math.max(pause?.resumeDeadline ?? 0, countdownEnd),
				reason: pause?.reason ?? 'dropout',
				missing: [...(pause?.missing ?? []), memberId]
			});
			return;
		}
		case 'continue':
			giveDropout(draft, [memberId]);
			if (listActiveMembers(draft.state).length < policy.minMembers) finishRoom(draft, 'dropout');
			else settleRoom(draft, 'dropout');
			return;
		case 'end':
			finishRoom(draft, 'dropout');
			return;
	}
}

/** A member came back (already folded in): a dropout pause waiting only for them lifts. */
export function handleReturn(draft: EventDraft, memberId: string): void {
	const pause = draft.state.paused;
	if (!pause || !pause.missing.includes(memberId)) return;
	const missing = pause.missing.filter((id) => id !== memberId);
	if (missing.length === 0 && pause.reason === 'dropout') {
		emitResume(draft, pause);
		settleRoom(draft, 'dropout');
		return;
	}
	emitPause(draft, {
		...pause,
		missing,
		resumeDeadline: missing.length === 0 ? null : pause.resumeDeadline
	});
}

/**
 * The pause countdown ran out with members still missing: the stage policy's `then` acts —
 * `end` ends the room with `dropout` for everyone, `continue` drops the missing and goes on
 * (still paused if an experimenter paused the room too).
 */
export function expirePause(draft: EventDraft): void {
	const pause = draft.state.paused;
	if (!pause) return;
	const policy = currentStage(draft.state)?.dropout;
	if (policy?.policy === 'pause' && policy.then === 'end') {
		finishRoom(draft, 'dropout');
		return;
	}
	giveDropout(draft, pause.missing);
	if (pause.reason === 'dropout') emitResume(draft, pause);
	else emitPause(draft, { ...pause, missing: [], resumeDeadline: null });
	settleRoom(draft, 'dropout');
}

/**
 * The experimenter resumes. Anyone still missing is dropped: the experimenter chose not to
 * wait for them, and leaving them in would block every later barrier.
 */
export function resumeByExperimenter(draft: EventDraft): void {
	const pause = draft.state.paused;
	if (!pause) return;
	giveDropout(draft, pause.missing);
	emitResume(draft, pause);
	settleRoom(draft, 'dropout');
}
