/**
 * `POST /s/<slug>/signals`: a participant's device posting signal samples (R-R intervals, a
 * coherence score, a rating) for the room they are in. Stored as telemetry, idempotent by
 * sample id, and fed to the room's live group metric.
 */
import type { TelemetrySample } from '../../protocol';
import type { Database } from '../db';
import { findLinkParticipant } from '../participants/journey';
import type { CommandActor } from '../realtime/room-model';
import type { EnqueueResult } from '../realtime/telemetry-writer';
import { parseSignalBatch, toTelemetrySample } from './batch';

/** Where samples go: the realtime hub (an interface, so tests can pass a fake). */
export type SignalSink = {
	ingestSignals(
		roomId: string,
		actor: CommandActor,
		samples: TelemetrySample[]
	): Promise<EnqueueResult>;
};

export type IngestSignalsInput = {
	db: Database;
	/** Undefined when this process runs no realtime hub (then nothing can be ingested). */
	sink: SignalSink | undefined;
	slug: string;
	/** The token from the study's participant cookie. */
	token: string | null;
	body: string;
};

export type IngestSignalsResult =
	| { ok: true; accepted: number }
	| { ok: false; reason: 'unauthorized' | 'not_in_room' | 'unavailable' }
	| { ok: false; reason: 'invalid'; message: string }
	/** The storage queue is full: nothing was stored; send the same batch after the delay. */
	| { ok: false; reason: 'busy'; retryAfterMs: number };

/**
 * Authenticates the participant, checks they are in a room now, validates the batch and hands
 * it to the hub. The room is the participant's own: it comes from the database, never the body.
 */
export async function ingestParticipantSignals(
	input: IngestSignalsInput
): Promise<IngestSignalsResult> {
	const participant = await findLinkParticipant(input.db, input.slug, input.token);
	if (!participant) return { ok: false, reason: 'unauthorized' };
	if (participant.status !== 'in_room' || !participant.roomId) {
		return { ok: false, reason: 'not_in_room' };
	}
	const batch = parseSignalBatch(input.body);
	if (!batch.ok) return batch;
	if (!input.sink) return { ok: false, reason: 'unavailable' };
	const actor: CommandActor = {
		id: participant.id,
		role: participant.isBot ? 'bot' : 'participant'
	};
	const result = await input.sink.ingestSignals(
		participant.roomId,
		actor,
		batch.samples.map(toTelemetrySample)
	);
	if ('retryAfterMs' in result) {
		return { ok: false, reason: 'busy', retryAfterMs: result.retryAfterMs };
	}
	return { ok: true, accepted: result.accepted };
}
