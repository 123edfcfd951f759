import type { Cookies } from '@sveltejs/kit';
import { hmac } from '@oslojs/crypto/hmac';
import { SHA256, sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import {
	decodeBase64urlIgnorePadding,
	encodeBase64urlNoPadding,
	encodeHexLowerCase
} from '@oslojs/encoding';
import * as v from 'valibot';
import { getEnv } from '../config/env';
import type { Database } from '../db';
import { loadAppSecretKey } from '../db/app-secret-key';
import { generateSecureRandomString } from './tokens';

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
 * that signed in to an account once holds a signed cookie naming that account and a random
 * nonce. Sign-in attempts that present a valid one are throttled only by that device's own
 * failures, so an attacker failing from anywhere else cannot lock the account's owner out.
 * Stateless: an HMAC with a key in `app_secrets`, so every replica verifies what any signed.
 */

/** The `app_secrets` row of the signing key (its own key: never shared with room tickets). */
const KEY_NAME = 'login_device_key';

/** How long a device stays trusted after its last sign-in (each sign-in issues a fresh one). */
export const DEVICE_COOKIE_TTL_MS = 180 * 24 * 60 * 60 * 1000;

/** Longer than any cookie we issue; a longer value is not ours. */
const MAX_COOKIE_LENGTH = 512;

/** Domain separation: these bytes are signed for nothing else. */
const PURPOSE = 'ensemble-device-v1.';

export type DeviceClaims = { userId: string; nonce: string; expiresAt: number };

const Claims = v.strictObject({
	u: v.pipe(v.string(), v.maxLength(100)),
	n: v.pipe(v.string(), v.maxLength(100)),
	e: v.number()
});

/** The signing key, created on first use and shared by every replica. */
export function getDeviceCookieKey(db: Database): Promise<Uint8Array> {
	return loadAppSecretKey(db, KEY_NAME);
}

/**
 * The cookie's name for one account: one cookie per account a browser signed in to, so a shared
 * lab computer stays trusted for each of them. Over https it has the `__Host-` prefix.
 */
export function deviceCookieName(userId: string, secure: boolean): string {
	const tag = encodeHexLowerCase(sha256(new TextEncoder().encode(`device:${userId}`))).slice(0, 16);
	return `${secure ? '__Host-' : ''}ensemble_device_${tag}`;
}

function sign(key: Uint8Array, body: string): string {
	return encodeBase64urlNoPadding(hmac(SHA256, key, new TextEncoder().encode(PURPOSE + body)));
}

/** The cookie value: base64url claims, a dot, their HMAC. */
export function signDeviceCookie(key: Uint8Array, claims: DeviceClaims): string {
	const json = JSON.stringify({ u: claims.userId, n: claims.nonce, e: claims.expiresAt });
	const body = encodeBase64urlNoPadding(new TextEncoder().encode(json));
	return `${body}.${sign(key, body)}`;
}

export type DeviceCheck =
	| { ok: true; nonce: string }
	| { ok: false; reason: 'malformed' | 'signature' | 'other_account' | 'expired' };

/** Checks a presented cookie for `userId`: ours, unaltered, for this account, not expired. */
export function verifyDeviceCookie(
	key: Uint8Array,
	userId: string,
	value: string,
	now: number
): DeviceCheck {
	if (value.length > MAX_COOKIE_LENGTH) return { ok: false, reason: 'malformed' };
	const [body, signature, ...rest] = value.split('.');
	if (!body || !signature || rest.length > 0) return { ok: false, reason: 'malformed' };
	let presented: Uint8Array;
	let claims: v.InferOutput<typeof Claims>;
	try {
		presented = decodeBase64urlIgnorePadding(signature);
		const parsed = v.safeParse(
			Claims,
			JSON.parse(new TextDecoder().decode(decodeBase64urlIgnorePadding(body)))
		);
		if (!parsed.success) return { ok: false, reason: 'malformed' };
		claims = parsed.output;
	} catch {
		return { ok: false, reason: 'malformed' };
	}
	const expected = decodeBase64urlIgnorePadding(sign(key, body));
	if (!constantTimeEqual(presented, expected)) return { ok: false, reason: 'signature' };
	if (claims.u !== userId) return { ok: false, reason: 'other_account' };
	if (claims.e <= now) return { ok: false, reason: 'expired' };
	return { ok: true, nonce: claims.n };
}

/** The nonce of a valid device cookie this request holds for `userId`, or null (untrusted). */
export function readTrustedDevice(
	cookies: Pick<Cookies, 'get'>,
	key: Uint8Array,
	userId: string,
	now: number,
	secure = getEnv().secureCookies
): string | null {
	const value = cookies.get(deviceCookieName(userId, secure));
	if (!value) return null;
	const check = verifyDeviceCookie(key, userId, value, now);
	return check.ok ? check.nonce : null;
}

/**
 * Marks this browser as one that signed in to `userId`: a fresh cookie with a new nonce (a
 * device that signs in again starts with a clean record). HttpOnly, SameSite=Strict (only our
 * own sign-in forms and API need it), Secure over https.
 */
export function issueDeviceCookie(
	cookies: Pick<Cookies, 'set'>,
	key: Uint8Array,
	userId: string,
	now: number,
	secure = getEnv().secureCookies
): void {
	const value = signDeviceCookie(key, {
		userId,
		nonce: generateSecureRandomString(),
		expiresAt: now + DEVICE_COOKIE_TTL_MS
	});
	cookies.set(deviceCookieName(userId, secure), value, {
		path: '/',
		httpOnly: true,
		sameSite: 'strict',
		secure,
		maxAge: Math.floor(DEVICE_COOKIE_TTL_MS / 1000)
	});
}
