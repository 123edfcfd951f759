import { describe, expect, test } from 'bun:test';
import { hmac } from '@oslojs/crypto/hmac';
import { SHA256 } from '@oslojs/crypto/sha2';
import {
	DEVICE_COOKIE_TTL_MS,
	deviceCookieName,
	issueDeviceCookie,
	readTrustedDevice,
	signDeviceCookie,
	verifyDeviceCookie
} from '../../src/lib/server/auth/device-cookies';

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);
const claims = { userId: 'u-ada', nonce: 'n-1', expiresAt: 10_000 };

describe('device cookies', () => {
	test('a signed cookie verifies for its account until it expires', () => {
		const value = signDeviceCookie(key, claims);
		expect(verifyDeviceCookie(key, 'u-ada', value, 9_999)).toEqual({ ok: true, nonce: 'n-1' });
		expect(verifyDeviceCookie(key, 'u-ada', value, 10_000)).toEqual({
			ok: false,
			reason: 'expired'
		});
	});

	test('it is no key to another account', () => {
		const value = signDeviceCookie(key, claims);
		expect(verifyDeviceCookie(key, 'u-grace', value, 0)).toEqual({
			ok: false,
			reason: 'other_account'
		});
	});

	test('forged, altered or foreign cookies are refused', () => {
		const value = signDeviceCookie(key, claims);
		const [body, signature] = value.split('.') as [string, string];
		const forged = signDeviceCookie(otherKey, claims);
		const otherBody = signDeviceCookie(key, { ...claims, userId: 'u-grace' }).split('.')[0]!;
		expect(verifyDeviceCookie(key, 'u-ada', forged, 0)).toMatchObject({ reason: 'signature' });
		expect(verifyDeviceCookie(key, 'u-grace', `${otherBody}.${signature}`, 0)).toMatchObject({
			reason: 'signature'
		});
		for (const bad of [
			'',
			'x',
			`${body}.`,
			`.${signature}`,
			`${value}.x`,
			'é.é',
			'a'.repeat(600)
		]) {
			expect({ bad, check: verifyDeviceCookie(key, 'u-ada', bad, 0).ok }).toEqual({
				bad,
				check: false
			});
		}
		// Well-signed but not our claims (a stray field): refused too.
		const json = Buffer.from(JSON.stringify({ u: 'u-ada', n: 'n', e: 1e15, x: 1 })).toString(
			'base64url'
		);
		const sig = Buffer.from(
			hmac(SHA256, key, new TextEncoder().encode(`ensemble-device-v1.${json}`))
		).toString('base64url');
		expect(verifyDeviceCookie(key, 'u-ada', `${json}.${sig}`, 0)).toMatchObject({
			reason: 'malformed'
		});
	});

	test('one cookie per account, __Host- over https; issued HttpOnly, SameSite=Strict', () => {
		expect(deviceCookieName('u-ada', false)).toMatch(/^ensemble_device_[0-9a-f]{16}$/);
		expect(deviceCookieName('u-ada', true)).toStartWith('__Host-ensemble_device_');
		expect(deviceCookieName('u-ada', false)).not.toBe(deviceCookieName('u-grace', false));
		const jar = new Map<string, { value: string; options: object }>();
		const cookies = {
			set: (name: string, value: string, options: object) => {
				jar.set(name, { value, options });
			},
			get: (name: string) => jar.get(name)?.value
		};
		issueDeviceCookie(cookies, key, 'u-ada', 1_000, true);
		const issued = jar.get(deviceCookieName('u-ada', true))!;
		expect(issued.options).toMatchObject({
			path: '/',
			httpOnly: true,
			sameSite: 'strict',
			secure: true,
			maxAge: DEVICE_COOKIE_TTL_MS / 1000
		});
		expect(readTrustedDevice(cookies, key, 'u-ada', 2_000, true)).toEqual(expect.any(String));
		expect(readTrustedDevice(cookies, key, 'u-grace', 2_000, true)).toBeNull();
		expect(readTrustedDevice(cookies, otherKey, 'u-ada', 2_000, true)).toBeNull();
		// A fresh nonce at every sign-in.
		const first = readTrustedDevice(cookies, key, 'u-ada', 2_000, true);
		issueDeviceCookie(cookies, key, 'u-ada', 1_500, true);
		expect(readTrustedDevice(cookies, key, 'u-ada', 2_000, true)).not.toBe(first);
	});
});
