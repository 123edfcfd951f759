import { hmac } from '@oslojs/crypto/hmac';
import { SHA256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import {
	decodeBase64urlIgnorePadding,
	decodeHex,
	encodeBase64urlNoPadding,
	encodeHexLowerCase
} from '@oslojs/encoding';
import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { ActorRole } from '../../room';
import type { Database } from '../db';
import { appSecrets } from '../db/schema';

/**
 * Room tickets: short-lived, HMAC-signed grants to open one room's socket as one actor. The
 * server mints them after its own authorization (the participant runtime, bots, benchmarks);
 * the socket accepts them as `?ticket=`. The key lives in the database, so every replica
 * verifies what any replica signed.
 */

export type TicketClaims = { roomId: string; actor: string; role: ActorRole; expiresAt: number };

/** Tickets are for opening a socket now, not for storing: one minute is plenty. */
export const TICKET_TTL_MS = 60_000;

const KEY_NAME = 'room_ticket_key';
const Claims = v.strictObject({
	r: v.string(),
	a: v.string(),
	k: v.picklist(['participant', 'experimenter', 'observer', 'bot']),
	e: v.number()
});

const CACHE = Symbol.for('ensemble.ticketKey');
type KeyGlobal = { [CACHE]?: Promise<Uint8Array> };

/** The signing key, created on first use (every replica then reads the same row). */
export function getTicketKey(db: Database): Promise<Uint8Array> {
	const store = globalThis as KeyGlobal;
	store[CACHE] ??= (async () => {
		const fresh = new Uint8Array(32);
		crypto.getRandomValues(fresh);
		await db
			.insert(appSecrets)
			.values({ name: KEY_NAME, value: encodeHexLowerCase(fresh) })
			.onConflictDoNothing();
		const [row] = await db.select().from(appSecrets).where(eq(appSecrets.name, KEY_NAME));
		return decodeHex(row!.value);
	})().catch((error: unknown) => {
		delete store[CACHE];
		throw error;
	});
	return store[CACHE];
}

function sign(key: Uint8Array, body: string): string {
	return encodeBase64urlNoPadding(hmac(SHA256, key, new TextEncoder().encode(body)));
}

export function signTicket(key: Uint8Array, claims: TicketClaims): string {
	const body = encodeBase64urlNoPadding(
		new TextEncoder().encode(
			JSON.stringify({ r: claims.roomId, a: claims.actor, k: claims.role, e: claims.expiresAt })
		)
	);
	return `${body}.${sign(key, body)}`;
}

export type TicketCheck =
	{ ok: true; claims: TicketClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

export function verifyTicket(key: Uint8Array, ticket: string, now: number): TicketCheck {
	const [body, signature, ...rest] = ticket.split('.');
	if (!body || !signature || rest.length > 0 || ticket.length > 1024)
		return { ok: false, reason: 'malformed' };
	let presented: Uint8Array;
	try {
		presented = decodeBase64urlIgnorePadding(signature);
	} catch {
		return { ok: false, reason: 'malformed' };
	}
	const expected = decodeBase64urlIgnorePadding(sign(key, body));
	if (presented.length !== expected.length || !constantTimeEqual(presented, expected)) {
		return { ok: false, reason: 'signature' };
	}
	let parsed: v.InferOutput<typeof Claims>;
	try {
		parsed = v.parse(
			Claims,
			JSON.parse(new TextDecoder().decode(decodeBase64urlIgnorePadding(body)))
		);
	} catch {
		return { ok: false, reason: 'malformed' };
	}
	if (parsed.e <= now) return { ok: false, reason: 'expired' };
	return {
		ok: true,
		claims: { roomId: parsed.r, actor: parsed.a, role: parsed.k, expiresAt: parsed.e }
	};
}
