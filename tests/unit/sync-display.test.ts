import { describe, expect, test } from 'bun:test';
import { estimateFrameIntervalMs } from '../../src/lib/sync/display';

/** Display times of `count` frames every `spacingMs`, from 1000 ms. */
const framesEvery = (spacingMs: number, count: number) =>
	Array.from({ length: count }, (_, i) => 1_000 + i * spacingMs);

describe('estimateFrameIntervalMs: the spacing of displayed frames', () => {
	test('30 fps on a 60 Hz display: every other refresh, 33.3 ms', () => {
		expect(estimateFrameIntervalMs(framesEvery(1000 / 30, 31))).toBeCloseTo(33.33, 2);
	});

	test('24 fps on 60 Hz (3:2): frames 50 and 33 ms apart, the median of them', () => {
		const times = [0];
		for (let i = 1; i < 31; i++) times.push((times[i - 1] as number) + (i % 2 ? 50 : 33.3));
		expect([33.3, 50]).toContain(estimateFrameIntervalMs(times) as number);
	});

	test('gaps (a seek, a stall, a busy thread) do not count', () => {
		const times = framesEvery(1000 / 60, 20);
		times.push((times.at(-1) as number) + 900, ...framesEvery(1000 / 60, 10).map((t) => t + 5_000));
		expect(estimateFrameIntervalMs(times)).toBeCloseTo(16.67, 2);
	});

	test('too few frames say nothing yet', () => {
		expect(estimateFrameIntervalMs([])).toBeUndefined();
		expect(estimateFrameIntervalMs(framesEvery(1000 / 30, 5))).toBeUndefined();
	});
});
