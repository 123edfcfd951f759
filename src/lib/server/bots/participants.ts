import type { Database } from '../db';
import { enterStudy } from '../participants/identity';

export type CreateBotsResult =
	| { ok: true; bots: { participantId: string; token: string }[] }
	| { ok: false; reason: 'not_found' | 'paused' | 'closed' };

/**
 * Creates `count` participants flagged as bots and answers their study-cookie tokens. This is
 * the only way to get `is_bot`: the flag is set here, server-side, never from anything a
 * client sends, so nobody can mark themselves a bot (or a person a bot) through the link.
 */
export async function createBotParticipants(
	db: Database,
	slug: string,
	count: number,
	now: Date
): Promise<CreateBotsResult> {
	const bots: { participantId: string; token: string }[] = [];
	for (let index = 0; index < count; index++) {
		const entered = await enterStudy(db, { slug, isBot: true, now });
		if (!entered.ok) {
			// Bots carry no Prolific id or link, so only the study's state can turn them away.
			if (entered.reason === 'already_started' || entered.reason === 'invalid_link') {
				throw new Error(`bot refused: ${entered.reason}`);
			}
			return { ok: false, reason: entered.reason };
		}
		bots.push({ participantId: entered.participant.id, token: entered.token });
	}
	return { ok: true, bots };
}
