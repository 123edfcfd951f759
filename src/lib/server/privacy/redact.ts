/**
 * What erasure overwrites in a room's log. The events stay, with their seq, actor and times, so
 * every room's log stays contiguous and replays the same way; only what the participant said
 * or chose goes. Each rule is merged over the payload of that event when its `memberId` is the
 * erased participant, and `redacted: true` marks it. Strings become empty strings rather than
 * objects, because clients and the replay render them as text.
 */
export const REDACTIONS = {
	'stage.submitted': { response: { redacted: true }, redacted: true },
	'group_choice.picked': { option: '', redacted: true },
	'chat.sent': { text: '', redacted: true },
	'goal.set': { text: '', redacted: true }
} as const satisfies Record<string, Record<string, unknown>>;

export type RedactedEventName = keyof typeof REDACTIONS;

/** The event names whose content is redacted. */
export const REDACTED_EVENT_NAMES = Object.keys(REDACTIONS) as RedactedEventName[];

/**
 * The payload of one event after erasing `participantId` (the same merge the database does
 * with `payload || patch`): unchanged unless the event carries that member's content.
 */
export function redactPayload(name: string, payload: unknown, participantId: string): unknown {
	if (!(name in REDACTIONS) || typeof payload !== 'object' || payload === null) return payload;
	if ((payload as { memberId?: unknown }).memberId !== participantId) return payload;
	return { ...payload, ...REDACTIONS[name as RedactedEventName] };
}
