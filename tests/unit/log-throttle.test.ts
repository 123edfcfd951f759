import { expect, spyOn, test } from 'bun:test';
import { logThrottled } from '../../src/lib/server/log';

test('a throttled log line is written once per interval, the next one counting what was left out', () => {
	const lines: string[] = [];
	const spy = spyOn(console, 'error').mockImplementation((line: unknown) => {
		lines.push(String(line));
	});
	try {
		const event = `test.throttled_${Math.random().toString(36).slice(2)}`;
		for (let i = 0; i < 1_000; i++) logThrottled('warn', event, { n: i }, 10_000, 5_000 + i);
		logThrottled('warn', event, { n: 'later' }, 10_000, 15_000);
		expect(lines).toHaveLength(2);
		expect(lines[0]).toContain('n=0');
		expect(lines[1]).toContain('n=later');
		expect(lines[1]).toContain('suppressed=999');
	} finally {
		spy.mockRestore();
	}
});
