import type { Database } from '../db';
import type { Participant } from '../db/schema';
import { findParticipantByToken } from './identity';
import { describeJourneyStep, type JourneyStep } from './journey';
import { findStudyEntry } from './study-link';

/**
 * `/s/<slug>?resume=<token>` moves a participation to another browser. A browser that already
 * takes part in the study as someone else is never switched silently — a resume link sent by
 * someone else would have this person answer as that participant — so the page asks first.
 */

/** Where one participation stands, in terms a participant recognises (no ids, no answers). */
export type ParticipationSummary = {
	/** When it started (ISO 8601), so two can be told apart. */
	startedAt: string;
	step:
		| { kind: 'stage'; index: number; count: number }
		| { kind: 'ready' | 'waiting' | 'in_room' | 'finished' };
};

export type ResumeDecision =
	/** Not a token of this study: drop it and change nothing. */
	| { kind: 'ignore' }
	/** The browser has no participation of its own here (or this very one): take the token. */
	| { kind: 'adopt'; token: string }
	/** The browser takes part as someone else: ask before switching. */
	| {
			kind: 'ask';
			token: string;
			current: ParticipationSummary;
			other: ParticipationSummary;
	  };

function summarizeStep(step: JourneyStep): ParticipationSummary['step'] {
	switch (step.kind) {
		case 'stage':
			return { kind: 'stage', index: step.index, count: step.count };
		case 'outcome':
			return { kind: 'finished' };
		default:
			return { kind: step.kind };
	}
}

async function summarize(
	db: Database,
	participant: Participant,
	now: Date
): Promise<ParticipationSummary> {
	return {
		startedAt: participant.createdAt.toISOString(),
		step: summarizeStep(await describeJourneyStep(db, participant, now))
	};
}

/**
 * What to do with a presented resume token when the browser holds `heldToken` (its study
 * cookie, or null). Read-only: the caller sets the cookie.
 */
export async function decideResume(
	db: Database,
	slug: string,
	presentedToken: string,
	heldToken: string | null,
	now: Date
): Promise<ResumeDecision> {
	const study = await findStudyEntry(db, slug);
	if (!study) return { kind: 'ignore' };
	const other = await findParticipantByToken(db, study.studyId, presentedToken);
	if (!other) return { kind: 'ignore' };
	const current = heldToken ? await findParticipantByToken(db, study.studyId, heldToken) : null;
	if (!current || current.id === other.id) return { kind: 'adopt', token: presentedToken };
	return {
		kind: 'ask',
		token: presentedToken,
		current: await summarize(db, current, now),
		other: await summarize(db, other, now)
	};
}
