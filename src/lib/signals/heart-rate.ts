/**
 * The Bluetooth Heart Rate Measurement characteristic (GATT 0x2A37), as chest straps and
 * watches send it: a flags byte, the heart rate, optionally the energy expended, then zero or
 * more R-R intervals. Pure, so the parsing is tested without a device.
 *
 * Layout (Bluetooth SIG, Heart Rate Service 1.0, §3.1):
 * - flags bit 0: heart rate is uint16 (else uint8);
 * - bits 1–2: sensor contact (0b10 supported, not touching; 0b11 supported and touching);
 * - bit 3: a uint16 "energy expended" (kJ) follows;
 * - bit 4: R-R intervals follow, each a uint16 in units of 1/1024 s, little endian.
 */

/** One notification, decoded. */
export type HeartRateMeasurement = {
	bpm: number;
	/** null when the sensor cannot tell whether it touches the skin. */
	contact: boolean | null;
	/** Beat-to-beat intervals in milliseconds, oldest first; often empty on cheap sensors. */
	rrIntervalsMs: number[];
};

export type ParseHeartRateResult =
	{ ok: true; measurement: HeartRateMeasurement } | { ok: false; reason: 'truncated' };

const FLAG_UINT16_RATE = 0x01;
const FLAG_CONTACT_SUPPORTED = 0x04;
const FLAG_CONTACT_DETECTED = 0x02;
const FLAG_ENERGY = 0x08;
const FLAG_RR = 0x10;
/** R-R intervals count in 1/1024 s. */
const RR_UNITS_PER_SECOND = 1024;

/** Decodes one Heart Rate Measurement value; a value cut short is refused, not guessed. */
export function parseHeartRateMeasurement(view: DataView): ParseHeartRateResult {
	if (view.byteLength < 2) return { ok: false, reason: 'truncated' };
	const flags = view.getUint8(0);
	let offset = 1;
	const wideRate = (flags & FLAG_UINT16_RATE) !== 0;
	if (view.byteLength < offset + (wideRate ? 2 : 1)) return { ok: false, reason: 'truncated' };
	const bpm = wideRate ? view.getUint16(offset, true) : view.getUint8(offset);
	offset += wideRate ? 2 : 1;
	if (flags & FLAG_ENERGY) {
		if (view.byteLength < offset + 2) return { ok: false, reason: 'truncated' };
		offset += 2;
	}
	const rrIntervalsMs: number[] = [];
	if (flags & FLAG_RR) {
		// An odd trailing byte cannot be an interval: refuse rather than drop a beat silently.
		if ((view.byteLength - offset) % 2 !== 0) return { ok: false, reason: 'truncated' };
		for (; offset < view.byteLength; offset += 2) {
			rrIntervalsMs.push((view.getUint16(offset, true) * 1000) / RR_UNITS_PER_SECOND);
		}
	}
	const contact = flags & FLAG_CONTACT_SUPPORTED ? (flags & FLAG_CONTACT_DETECTED) !== 0 : null;
	return { ok: true, measurement: { bpm, contact, rrIntervalsMs } };
}

/** Encodes a measurement the way a sensor does (uint8 rate when it fits): for tests and fakes. */
export function encodeHeartRateMeasurement(measurement: {
	bpm: number;
	rrIntervalsMs: readonly number[];
	contact?: boolean | null;
}): Uint8Array<ArrayBuffer> {
	const wideRate = measurement.bpm > 255;
	const hasRr = measurement.rrIntervalsMs.length > 0;
	const contact = measurement.contact ?? null;
	let flags = (wideRate ? FLAG_UINT16_RATE : 0) | (hasRr ? FLAG_RR : 0);
	if (contact !== null) flags |= FLAG_CONTACT_SUPPORTED | (contact ? FLAG_CONTACT_DETECTED : 0);
	const bytes = new Uint8Array(1 + (wideRate ? 2 : 1) + 2 * measurement.rrIntervalsMs.length);
	const view = new DataView(bytes.buffer);
	view.setUint8(0, flags);
	let offset = 1;
	if (wideRate) view.setUint16(offset, measurement.bpm, true);
	else view.setUint8(offset, measurement.bpm);
	offset += wideRate ? 2 : 1;
	for (const rr of measurement.rrIntervalsMs) {
		view.setUint16(offset, Math.round((rr * RR_UNITS_PER_SECOND) / 1000), true);
		offset += 2;
	}
	return bytes;
}
