/**
 * What a participant reads when a command they sent was refused: one sentence that names what
 * was lost ("Your message “see you” was not sent") and why, in their words. Pure, so the page,
 * tests and any other client word it the same way. The page shows these at room level: the
 * component that sent the command may be gone by the time the refusal arrives (a resend after a
 * reconnect, refused because the stage had ended meanwhile).
 */

/** The command as it was sent. */
export type SentCommand = { name: string; payload: unknown };

// Long enough to recognise a message, short enough for one line on a phone.
const EXCERPT_LENGTH = 40;

/** The start of `text` on one line, cut with an ellipsis. */
export function excerptText(text: string, length = EXCERPT_LENGTH): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length <= length ? line : `${line.slice(0, length - 1).trimEnd()}…`;
}

function readString(payload: unknown, key: string): string | null {
	if (typeof payload !== 'object' || payload === null) return null;
	const value = (payload as Record<string, unknown>)[key];
	return typeof value === 'string' ? value : null;
}

const PLAYBACK_ACTIONS: Record<string, string> = {
	play: 'Playing the video',
	pause: 'Pausing the video',
	seek: 'Moving the video'
};

/** "Your message “…” was not sent", or null for commands the page sends on its own. */
function describeWhat(command: SentCommand): string | null {
	switch (command.name) {
		case 'chat.send':
			return `Your message “${excerptText(readString(command.payload, 'text') ?? '')}” was not sent`;
		case 'stage.submit':
			return 'Your answer was not saved';
		case 'group_choice.pick':
			return 'Your choice was not saved';
		case 'consent.decline':
			return 'Your choice not to take part was not saved';
		case 'goal.set':
			return readString(command.payload, 'text') === ''
				? 'Clearing your goal did not take effect'
				: 'Your goal was not saved';
		case 'playback.control': {
			const action = PLAYBACK_ACTIONS[readString(command.payload, 'action') ?? ''];
			return `${action ?? 'Your video control'} did not take effect`;
		}
		// Sent by the player when the video can play: a refusal means the stage moved on, which
		// the page already shows; nothing the participant did was lost.
		case 'media.buffered':
			return null;
		default:
			return 'Your action was not accepted';
	}
}

// The stage the command was for has ended (usually a resend that arrived after the deadline).
const STAGE_OVER = new Set(['wrong_stage', 'chat_not_allowed', 'goal_not_allowed']);

/** Why, as the end of the sentence; null where the server's own message says it best. */
function describeWhy(command: SentCommand, reason: string): string | null {
	if (STAGE_OVER.has(reason)) {
		return command.name === 'chat.send' || command.name === 'goal.set'
			? 'the chat had already ended.'
			: 'the group had already moved on.';
	}
	switch (reason) {
		case 'room_finished':
			return 'the session had already ended.';
		case 'member_finished':
			return 'you had already finished.';
		case 'paused':
			return 'the session is paused.';
		case 'try_again':
			return 'the server was busy. Please try again.';
		case 'client_closed':
			return 'the connection to your group ended.';
		default:
			return null;
	}
}

/**
 * The sentence a participant reads for a refused command, or null when the refusal is not
 * theirs to act on (a command the page sent by itself).
 */
export function describeRefusal(
	command: SentCommand,
	refusal: { reason: string; message: string }
): string | null {
	const what = describeWhat(command);
	if (what === null) return null;
	const why = describeWhy(command, refusal.reason);
	if (why !== null) return `${what}: ${why}`;
	const message = refusal.message.trim();
	return message === '' ? `${what}.` : `${what}. ${message}`;
}
