import { expect, test } from 'bun:test';
import { ByteBudget } from '../../src/lib/server/realtime/byte-budget';

test('bytes per identity: a burst, then a steady rate; each identity has its own', () => {
	const budget = new ByteBudget<string>(1000, 100);
	expect(budget.consume('a', 600, 0)).toBe(true);
	expect(budget.consume('a', 600, 0)).toBe(false);
	expect(budget.consume('b', 600, 0)).toBe(true);
	// 100 bytes more a second later: 400 + 100 fits 500, not 600.
	expect(budget.consume('a', 600, 1000)).toBe(false);
	expect(budget.consume('a', 500, 1000)).toBe(true);
});

test('memory: identities whose budget has refilled are forgotten', () => {
	const budget = new ByteBudget<string>(1000, 100, 50);
	for (let i = 0; i < 200; i++) budget.consume(`id-${i}`, 10, i);
	expect(budget.size).toBe(50);
	// Ten seconds refill the whole burst: everyone before then is as good as new.
	budget.consume('late', 10, 20_000);
	expect(budget.size).toBe(1);
});
