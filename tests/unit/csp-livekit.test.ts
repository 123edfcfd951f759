import { describe, expect, test } from 'bun:test';
import {
	addConnectSources,
	listLiveKitConnectSources
} from '../../src/lib/server/hooks/security-headers';

describe('LiveKit in the page policy', () => {
	const settings = (url: string) => ({ url, apiKey: 'k', apiSecret: 's' });

	test('the signalling socket and its HTTP probes, secure or not, from any URL form', () => {
		expect(listLiveKitConnectSources(settings('wss://lk.example.org'))).toEqual([
			'wss://lk.example.org',
			'https://lk.example.org'
		]);
		expect(listLiveKitConnectSources(settings('https://lk.example.org:7443/'))).toEqual([
			'wss://lk.example.org:7443',
			'https://lk.example.org:7443'
		]);
		expect(listLiveKitConnectSources(settings('ws://127.0.0.1:7880'))).toEqual([
			'ws://127.0.0.1:7880',
			'http://127.0.0.1:7880'
		]);
		expect(listLiveKitConnectSources(null)).toEqual([]);
	});

	test('added to connect-src only; the rest of the policy untouched', () => {
		const policy = "default-src 'self'; connect-src 'self'; object-src 'none'";
		expect(addConnectSources(policy, ['wss://lk', 'https://lk'])).toBe(
			"default-src 'self'; connect-src 'self' wss://lk https://lk; object-src 'none'"
		);
		expect(addConnectSources("default-src 'self'", ['wss://lk'])).toBe(
			"default-src 'self'; connect-src 'self' wss://lk"
		);
		expect(addConnectSources(policy, [])).toBe(policy);
	});
});
