/**
 * LiveKit webhooks (issue 7): LiveKit posts what happens in its rooms — participants joining
 * and leaving, tracks published, recordings (egress) starting and ending. Each one is verified
 * with the SDK's receiver (a JWT signed with our API secret that carries the body's SHA-256),
 * validated, and logged in the Ensemble room it names as an `av.recorded` event, exactly once
 * by the webhook's id. Nothing here changes the experiment: these are facts for the data.
 */
import * as v from 'valibot';
import { WebhookReceiver } from 'livekit-server-sdk';
import { storableText } from '../../protocol/text';
import type { AvRecordPayload } from '../../room/study';
import type { LiveKitSettings } from '../config/env';
import { roomIdFromLivekitName } from './room-name';

/**
 * Older than this, a webhook is refused as stale: LiveKit delivers within seconds, and a
 * captured request replayed later must not land (a replay within it lands once, by id).
 */
export const WEBHOOK_MAX_AGE_MS = 5 * 60_000;

// LiveKit's texts end up in the room's log: the same rule as every other text that is stored.
const Text = (max: number) => v.pipe(v.string(), v.maxLength(max), storableText());
/** int64 in protobuf JSON is a string; some senders use a number. Seconds since the epoch. */
const Seconds = v.pipe(
	v.union([v.pipe(v.string(), v.regex(/^\d{1,12}$/)), v.pipe(v.number(), v.integer())]),
	v.transform(Number)
);

/** The fields we read, as LiveKit's protobuf JSON names them; the rest is ignored. */
const WebhookSchema = v.looseObject({
	id: v.pipe(v.string(), v.minLength(1), v.maxLength(128), storableText()),
	event: Text(64),
	createdAt: Seconds,
	room: v.optional(v.looseObject({ name: Text(256) })),
	participant: v.optional(v.looseObject({ identity: Text(128) })),
	track: v.optional(v.looseObject({ sid: v.optional(Text(128)), source: v.optional(Text(32)) })),
	egressInfo: v.optional(
		v.looseObject({
			egressId: Text(128),
			roomName: v.optional(Text(256)),
			status: v.optional(Text(64)),
			error: v.optional(Text(1000)),
			fileResults: v.optional(
				v.array(
					v.looseObject({ filename: v.optional(Text(1000)), location: v.optional(Text(1000)) })
				)
			)
		})
	)
});
type Webhook = v.InferOutput<typeof WebhookSchema>;

/** Runs `av.record` in a room, exactly once by `id` (the hub's server commands). */
export type SubmitAvRecord = (
	roomId: string,
	record: AvRecordPayload,
	id: string
) => Promise<{ ok: true } | { ok: false; reason: string; message: string }>;

export type WebhookResult =
	| { ok: true; outcome: 'recorded' | 'ignored' }
	| { ok: false; reason: 'unauthorized' | 'invalid' | 'stale' | 'failed'; message: string };

/**
 * Verifies, validates and records one webhook. `ignored`: a valid webhook about something we
 * do not log (another event kind, a LiveKit room that is not ours).
 */
export async function receiveLiveKitWebhook(input: {
	config: LiveKitSettings;
	body: string;
	authorization: string | null;
	now: number;
	submit: SubmitAvRecord;
}): Promise<WebhookResult> {
	try {
		await new WebhookReceiver(input.config.apiKey, input.config.apiSecret).receive(
			input.body,
			input.authorization ?? undefined
		);
	} catch (error) {
		return { ok: false, reason: 'unauthorized', message: (error as Error).message };
	}
	let json: unknown;
	try {
		json = JSON.parse(input.body);
	} catch {
		return { ok: false, reason: 'invalid', message: 'The body is not JSON.' };
	}
	const parsed = v.safeParse(WebhookSchema, json);
	if (!parsed.success) {
		return { ok: false, reason: 'invalid', message: parsed.issues[0].message };
	}
	const webhook = parsed.output;
	const at = webhook.createdAt * 1000;
	if (input.now - at > WEBHOOK_MAX_AGE_MS) {
		return { ok: false, reason: 'stale', message: 'The webhook is too old to accept.' };
	}
	const mapped = toAvRecord(webhook, at);
	if (!mapped) return { ok: true, outcome: 'ignored' };
	const result = await input.submit(mapped.roomId, mapped.record, `lk-${webhook.id}`);
	if (result.ok) return { ok: true, outcome: 'recorded' };
	// A room that does not exist here (or no longer takes events) is not LiveKit's problem.
	if (result.reason === 'room_not_found' || result.reason === 'invalid_command') {
		return { ok: true, outcome: 'ignored' };
	}
	return { ok: false, reason: 'failed', message: result.message };
}

/** The room and the record a webhook becomes, or null when we do not log it. */
function toAvRecord(
	webhook: Webhook,
	at: number
): { roomId: string; record: AvRecordPayload } | null {
	const roomName = webhook.room?.name ?? webhook.egressInfo?.roomName;
	const roomId = roomName ? roomIdFromLivekitName(roomName) : null;
	if (!roomId) return null;
	const identity = webhook.participant?.identity;
	switch (webhook.event) {
		case 'participant_joined':
		case 'participant_left':
			return identity ? { roomId, record: { kind: webhook.event, identity, at } } : null;
		case 'track_published':
			return identity && webhook.track?.sid
				? {
						roomId,
						record: {
							kind: 'track_published',
							identity,
							trackSid: webhook.track.sid,
							source: webhook.track.source ?? 'UNKNOWN',
							at
						}
					}
				: null;
		case 'egress_started':
		case 'egress_ended': {
			const egress = webhook.egressInfo;
			if (!egress) return null;
			const file = egress.fileResults?.[0];
			return {
				roomId,
				record: {
					kind: webhook.event,
					egressId: egress.egressId,
					stageId: null,
					file: file?.location || file?.filename || null,
					status: egress.status ?? 'UNKNOWN',
					error: egress.error || null,
					at
				}
			};
		}
		default:
			return null;
	}
}
