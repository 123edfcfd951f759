/**
 * The wire shapes of signal samples: the body of `POST /s/<slug>/signals`, and the socket's
 * telemetry samples of kind `signal.rr` / `signal.coherence` / `rating`. Both are stored as
 * telemetry (kind `signal.<kind>` for posted samples) and turned into `SignalSample`s for the
 * room's aggregator.
 */
import * as v from 'valibot';
import type { TelemetrySample } from '../../protocol';
import { describeUnstorableFinding, findUnstorableInJson } from '../../protocol/text';
import { parseSignalSample, type SignalSample } from '../../signals';

/**
 * 100 samples a request: a device posting every few seconds sends a handful; 100 covers a
 * queue flushed after a minute offline, and (with ≤ 60 R-R intervals each) stays under the
 * body limit below.
 */
export const MAX_SAMPLES_PER_BATCH = 100;
/** The same bound as a socket frame (MAX_FRAME_BYTES): one batch, not a file upload. */
export const MAX_BATCH_BYTES = 64 * 1024;

/** Client sample ids, as for socket telemetry: a resent sample is stored once. */
const SampleId = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[\w.:-]+$/));

/** The envelope; each sample's own fields are checked by `SignalSampleSchema` after. */
const BatchSchema = v.strictObject({
	samples: v.pipe(
		v.array(v.looseObject({ id: SampleId })),
		v.minLength(1),
		v.maxLength(MAX_SAMPLES_PER_BATCH)
	)
});

export type IdentifiedSample = { id: string; sample: SignalSample };

/** Parses a posted batch: `{ samples: [{ id, kind, …, at }] }`. */
export function parseSignalBatch(
	text: string
): { ok: true; samples: IdentifiedSample[] } | { ok: false; reason: 'invalid'; message: string } {
	if (text.length > MAX_BATCH_BYTES) {
		return { ok: false, reason: 'invalid', message: 'The batch is too large.' };
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch {
		return { ok: false, reason: 'invalid', message: 'The body is not valid JSON.' };
	}
	const unstorable = findUnstorableInJson(data);
	if (unstorable)
		return { ok: false, reason: 'invalid', message: describeUnstorableFinding(unstorable) };
	const envelope = v.safeParse(BatchSchema, data);
	if (!envelope.success) {
		return { ok: false, reason: 'invalid', message: envelope.issues[0].message };
	}
	const samples: IdentifiedSample[] = [];
	for (const [index, { id, ...rest }] of envelope.output.samples.entries()) {
		const parsed = parseSignalSample(rest);
		if (!parsed.ok) {
			return { ok: false, reason: 'invalid', message: `samples.${index}: ${parsed.message}` };
		}
		samples.push({ id, sample: parsed.sample });
	}
	return { ok: true, samples };
}

/** A posted sample as stored telemetry: kind `signal.<kind>`, the device time as `t`. */
export function toTelemetrySample({ id, sample }: IdentifiedSample): TelemetrySample {
	const value = sample.kind === 'rr' ? sample.intervalsMs : sample.value;
	return { id, kind: `signal.${sample.kind}`, t: sample.at, value };
}

/**
 * The aggregator's reading of a telemetry sample (posted or from a socket), stamped `at` with
 * server time: device clocks are not trusted for the window, only kept in storage. Undefined
 * for kinds that carry no signal and for values that do not validate.
 */
export function toSignalSample(sample: TelemetrySample, at: number): SignalSample | undefined {
	let candidate: unknown;
	switch (sample.kind) {
		case 'signal.rr':
			candidate = { kind: 'rr', intervalsMs: sample.value, at };
			break;
		case 'signal.coherence':
			candidate = { kind: 'coherence', value: sample.value, at };
			break;
		case 'rating':
		case 'signal.rating':
			candidate = { kind: 'rating', value: sample.value, at };
			break;
		default:
			return undefined;
	}
	const parsed = parseSignalSample(candidate);
	return parsed.ok ? parsed.sample : undefined;
}
