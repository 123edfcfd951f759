import { describe, expect, test } from 'bun:test';
import {
	createUpgradeThrottle,
	isSocketUpgrade,
	readClientAddress
} from '../../src/lib/server/realtime/upgrade-throttle';

const upgrade = (path: string, headers: Record<string, string> = {}) =>
	new Request(`http://localhost${path}`, { headers: { upgrade: 'websocket', ...headers } });

describe('socket upgrades per address', () => {
	test('a burst, then an even refill over the minute; addresses count apart', () => {
		const throttle = createUpgradeThrottle(120);
		for (let i = 0; i < 120; i++) expect(throttle.check('a', 0).ok).toBe(true);
		expect(throttle.check('a', 0)).toEqual({ ok: false, retryAfterMs: 500 });
		expect(throttle.check('b', 0).ok).toBe(true);
		expect(throttle.check('a', 500).ok).toBe(true);
		expect(throttle.check('a', 500).ok).toBe(false);
	});

	test('only upgrades to our socket paths count', () => {
		expect(isSocketUpgrade(upgrade('/realtime/rooms/r1'), '/realtime/rooms/r1')).toBe(true);
		expect(isSocketUpgrade(upgrade('/s/abc/realtime/r1'), '/s/abc/realtime/r1')).toBe(true);
		const monitor = '/realtime/studies/s1/monitor';
		expect(isSocketUpgrade(upgrade(monitor), monitor)).toBe(true);
		expect(isSocketUpgrade(upgrade('/studies'), '/studies')).toBe(false);
		expect(
			isSocketUpgrade(new Request('http://localhost/realtime/rooms/r1'), '/realtime/rooms/r1')
		).toBe(false);
	});

	test('the client address as the adapter reads it: the peer, or the proxy header', () => {
		const direct = { addressHeader: undefined, xffDepth: 1 };
		expect(readClientAddress(upgrade('/x'), '127.0.0.1', direct)).toBe('127.0.0.1');
		// A client cannot choose its address by sending the header when no proxy is configured.
		expect(
			readClientAddress(upgrade('/x', { 'x-forwarded-for': '1.2.3.4' }), '10.0.0.1', direct)
		).toBe('10.0.0.1');
		const proxied = { addressHeader: 'x-forwarded-for', xffDepth: 1 };
		const chain = upgrade('/x', { 'x-forwarded-for': 'forged, 203.0.113.9' });
		expect(readClientAddress(chain, '10.0.0.1', proxied)).toBe('203.0.113.9');
		expect(readClientAddress(chain, '10.0.0.1', { ...proxied, xffDepth: 2 })).toBe('forged');
		expect(readClientAddress(chain, '10.0.0.1', { ...proxied, xffDepth: 3 })).toBe('unknown');
		expect(readClientAddress(upgrade('/x'), '10.0.0.1', proxied)).toBe('unknown');
		const realIp = { addressHeader: 'x-real-ip', xffDepth: 1 };
		expect(readClientAddress(upgrade('/x', { 'x-real-ip': '198.51.100.7' }), 'p', realIp)).toBe(
			'198.51.100.7'
		);
	});
});
