import { describe, expect, test } from 'bun:test';
import { encodeHeartRateMeasurement, parseHeartRateMeasurement } from '../../src/lib/signals';

const view = (...bytes: number[]) => new DataView(new Uint8Array(bytes).buffer);

describe('parseHeartRateMeasurement (GATT 0x2A37)', () => {
	test('a uint8 rate without R-R intervals or contact support', () => {
		expect(parseHeartRateMeasurement(view(0x00, 72))).toEqual({
			ok: true,
			measurement: { bpm: 72, contact: null, rrIntervalsMs: [] }
		});
	});

	test('a uint16 rate, energy expended skipped, two R-R intervals in 1/1024 s', () => {
		// flags: uint16 rate | contact supported+detected | energy | rr
		const flags = 0x01 | 0x02 | 0x04 | 0x08 | 0x10;
		// 300 bpm = 0x012c; energy 0x0010; rr 1024 (1 s) and 512 (0.5 s)
		const parsed = parseHeartRateMeasurement(
			view(flags, 0x2c, 0x01, 0x10, 0x00, 0x00, 0x04, 0x00, 0x02)
		);
		expect(parsed).toEqual({
			ok: true,
			measurement: { bpm: 300, contact: true, rrIntervalsMs: [1000, 500] }
		});
	});

	test('contact supported but not touching the skin', () => {
		const parsed = parseHeartRateMeasurement(view(0x04, 60));
		expect(parsed.ok && parsed.measurement.contact).toBe(false);
	});

	test('values cut short are refused, never guessed', () => {
		expect(parseHeartRateMeasurement(view())).toEqual({ ok: false, reason: 'truncated' });
		expect(parseHeartRateMeasurement(view(0x00))).toEqual({ ok: false, reason: 'truncated' });
		expect(parseHeartRateMeasurement(view(0x01, 0x40))).toEqual({ ok: false, reason: 'truncated' });
		expect(parseHeartRateMeasurement(view(0x08, 60, 0x01))).toEqual({
			ok: false,
			reason: 'truncated'
		});
		// An odd byte after the rate where R-R pairs are expected.
		expect(parseHeartRateMeasurement(view(0x10, 60, 0x00, 0x04, 0x01))).toEqual({
			ok: false,
			reason: 'truncated'
		});
	});

	test('encode and parse round-trip within the 1/1024 s resolution', () => {
		const rr = [812.3, 1003.9, 640, 1500.2];
		for (const bpm of [45, 180, 256, 300]) {
			const bytes = encodeHeartRateMeasurement({ bpm, rrIntervalsMs: rr, contact: true });
			const parsed = parseHeartRateMeasurement(new DataView(bytes.buffer));
			if (!parsed.ok) throw new Error('did not parse');
			expect(parsed.measurement.bpm).toBe(bpm);
			expect(parsed.measurement.contact).toBe(true);
			parsed.measurement.rrIntervalsMs.forEach((value, i) =>
				expect(Math.abs(value - rr[i]!)).toBeLessThanOrEqual(1000 / 1024 / 2 + 1e-9)
			);
		}
	});
});
