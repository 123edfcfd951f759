/**
 * How a conversation gets its LiveKit token and what it tells a participant when that fails:
 * the token endpoint's answer read into a result, the messages, and the retry delay. Pure (no
 * LiveKit) so it is unit-tested directly.
 */
import * as v from 'valibot';

/** Participant-facing messages, one per way this can go wrong. */
export const CONVERSATION_PROBLEMS = {
	unreachable:
		'The audio/video service cannot be reached. Please wait; the researchers have been told.',
	notConfigured:
		'Audio and video are not set up for this study. Please wait; the researchers have been told.',
	refused:
		'The audio/video service refused the connection. Please wait; the researchers have been told.',
	notRecognised: 'We could not recognise you for this conversation. Please reload the page.',
	notInRoom: 'You are not part of this conversation. Please reload the page.',
	otherTab: 'This conversation continues in another tab or window. Please use that one.',
	denied:
		"Your browser blocked the camera or microphone. Allow them for this site in your browser's site settings (the icon left of the address), then reload the page.",
	notFound: 'No camera or microphone was found. Connect one, then reload the page.',
	inUse:
		'Your camera or microphone is in use by another program. Close that program, then reload the page.',
	device: 'Your camera or microphone could not be started. Please reload the page.'
} as const;

// Retries back off from 1 s to at most 8 s: quick enough for a LiveKit restart, gentle on a
// server that is down.
const RETRY_BASE_MS = 1_000;
const RETRY_CAP_MS = 8_000;

const GrantSchema = v.object({
	url: v.pipe(v.string(), v.minLength(1)),
	token: v.pipe(v.string(), v.minLength(1)),
	roomName: v.string(),
	identity: v.pipe(v.string(), v.minLength(1)),
	expiresAt: v.union([v.number(), v.string()])
});
export type Grant = { url: string; token: string; identity: string; expiresAtMs: number };

/** What the token endpoint answered, as the next step needs it. */
export type GrantResult =
	| { ok: true; grant: Grant }
	/** The stage is over for this member: nothing to connect to, nothing wrong. */
	| { ok: false; reason: 'stage_over' }
	| { ok: false; reason: 'fatal'; message: string }
	/** Our server or the network failed: worth another try. */
	| { ok: false; reason: 'retry'; message: string };

/**
 * Reads the token endpoint's answer (PROTOCOL: `{ url, token, roomName, identity, expiresAt }`
 * or `{ error }`); `expiresAt` may be epoch ms, epoch seconds or an ISO date.
 */
export async function readGrantResponse(response: Response): Promise<GrantResult> {
	let body: unknown = null;
	try {
		body = await response.json();
	} catch {
		// Not JSON (a proxy's error page): decided by the status alone.
	}
	if (response.ok) {
		const parsed = v.safeParse(GrantSchema, body);
		const expiresAtMs = parsed.success ? parseExpiry(parsed.output.expiresAt) : null;
		if (!parsed.success || expiresAtMs === null) {
			return { ok: false, reason: 'retry', message: CONVERSATION_PROBLEMS.unreachable };
		}
		const { url, token, identity } = parsed.output;
		return { ok: true, grant: { url, token, identity, expiresAtMs } };
	}
	const error =
		typeof body === 'object' && body !== null && 'error' in body ? String(body.error) : '';
	if (error === 'not_on_conversation') return { ok: false, reason: 'stage_over' };
	if (error === 'livekit_not_configured') {
		return { ok: false, reason: 'fatal', message: CONVERSATION_PROBLEMS.notConfigured };
	}
	if (response.status === 401) {
		return { ok: false, reason: 'fatal', message: CONVERSATION_PROBLEMS.notRecognised };
	}
	if (response.status === 403) {
		return { ok: false, reason: 'fatal', message: CONVERSATION_PROBLEMS.notInRoom };
	}
	return { ok: false, reason: 'retry', message: CONVERSATION_PROBLEMS.unreachable };
}

function parseExpiry(value: number | string): number | null {
	const ms = typeof value === 'number' ? (value < 1e12 ? value * 1000 : value) : Date.parse(value);
	return Number.isFinite(ms) ? ms : null;
}

/** Equal jitter: between half and all of the doubling delay, so a retry never comes at once. */
export function computeRetryDelay(retry: number): number {
	const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** retry);
	return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
