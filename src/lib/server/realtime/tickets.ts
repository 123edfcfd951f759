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
 * Room tickets: short-lived, single-use, HMAC-signed grants to open one room's socket. The
 * server mints them after its own authorization and decides every claim in them: the actor
 * (the minting user themself, or a sandbox guest it made up), the role, and the credential
 * (session or API token) the upgrade checks again. The key lives in the database, so every
 * replica verifies what any replica signed.
 */

/** The session or API token that minted a ticket; the upgrade checks it is still valid. */
export type TicketCredential = { kind: 'session' | 'token'; id: string };

export type TicketClaims = {
	/** Random; recorded at the upgrade, so a ticket opens one socket once. */
	id: string;
	roomId: string;
	actor: string;
	role: ActorRole;
	/** The user who minted it: the socket lives only as long as their access does. */
	userId: string;
	credential: TicketCredential;
	expiresAt: number;
};

/** Tickets are for opening a socket now, not for storing: a reconnect mints a fresh one. */
export const TICKET_TTL_MS = 30_000;

/** A sandbox guest identity may be resumed (reconnects, a failover) for this long. */
export const GUEST_TTL_MS = 24 * 3_600_000;

const KEY_NAME = 'room_ticket_key';
const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const TicketWire = v.strictObject({
	i: Text,
	r: Text,
	a: Text,
	k: v.picklist(['participant', 'experimenter', 'observer', 'bot']),
	u: Text,
	c: v.tuple([v.picklist(['session', 'token']), Text]),
	e: v.number()
});
const GuestWire = v.strictObject({ r: Text, a: Text, u: Text, e: v.number() });

/** Each kind of signed token signs under its own label, so one is never accepted as another. */
type Purpose = 'ticket' | 'guest';

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

function mac(key: Uint8Array, purpose: Purpose, body: string): string {
	const signed = purpose === 'ticket' ? body : `${purpose}.${body}`;
	return encodeBase64urlNoPadding(hmac(SHA256, key, new TextEncoder().encode(signed)));
}

function seal(key: Uint8Array, purpose: Purpose, wire: unknown): string {
	const body = encodeBase64urlNoPadding(new TextEncoder().encode(JSON.stringify(wire)));
	return `${body}.${mac(key, purpose, body)}`;
}

type Opened = { ok: true; wire: unknown } | { ok: false; reason: 'malformed' | 'signature' };

function open(key: Uint8Array, purpose: Purpose, token: string): Opened {
	const [body, signature, ...rest] = token.split('.');
	if (!body || !signature || rest.length > 0 || token.length > 1024)
		return { ok: false, reason: 'malformed' };
	let presented: Uint8Array;
	try {
		presented = decodeBase64urlIgnorePadding(signature);
	} catch {
		return { ok: false, reason: 'malformed' };
	}
	const expected = decodeBase64urlIgnorePadding(mac(key, purpose, body));
	if (presented.length !== expected.length || !constantTimeEqual(presented, expected)) {
		return { ok: false, reason: 'signature' };
	}
	try {
		return {
			ok: true,
			wire: JSON.parse(new TextDecoder().decode(decodeBase64urlIgnorePadding(body)))
		};
	} catch {
		return { ok: false, reason: 'malformed' };
	}
}

/** Signs a ticket's claims (the caller decided every one of them). */
export function signTicket(key: Uint8Array, claims: TicketClaims): string {
	return seal(key, 'ticket', {
		i: claims.id,
		r: claims.roomId,
		a: claims.actor,
		k: claims.role,
		u: claims.userId,
		c: [claims.credential.kind, claims.credential.id],
		e: claims.expiresAt
	} satisfies v.InferOutput<typeof TicketWire>);
}

export type TicketCheck =
	{ ok: true; claims: TicketClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

/** Checks a ticket's signature, shape and expiry (not yet whether it was used: see ticket-ledger). */
export function verifyTicket(key: Uint8Array, ticket: string, now: number): TicketCheck {
	const opened = open(key, 'ticket', ticket);
	if (!opened.ok) return opened;
	const parsed = v.safeParse(TicketWire, opened.wire);
	if (!parsed.success) return { ok: false, reason: 'malformed' };
	const wire = parsed.output;
	if (wire.e <= now) return { ok: false, reason: 'expired' };
	return {
		ok: true,
		claims: {
			id: wire.i,
			roomId: wire.r,
			actor: wire.a,
			role: wire.k,
			userId: wire.u,
			credential: { kind: wire.c[0], id: wire.c[1] },
			expiresAt: wire.e
		}
	};
}

/** A sandbox guest the server made up for one user in one room. */
export type GuestClaims = { roomId: string; actor: string; userId: string; expiresAt: number };

/**
 * Signs a guest identity, handed to the user who minted it so their next ticket can continue as
 * the same guest (a reconnect keeps its actor, so retried commands are still applied once).
 */
export function signGuest(key: Uint8Array, claims: GuestClaims): string {
	return seal(key, 'guest', {
		r: claims.roomId,
		a: claims.actor,
		u: claims.userId,
		e: claims.expiresAt
	} satisfies v.InferOutput<typeof GuestWire>);
}

/** The guest behind a token, when it is genuine, unexpired and was made for this user and room. */
export function verifyGuest(
	key: Uint8Array,
	token: string,
	expected: { roomId: string; userId: string },
	now: number
): GuestClaims | undefined {
	const opened = open(key, 'guest', token);
	if (!opened.ok) return undefined;
	const parsed = v.safeParse(GuestWire, opened.wire);
	if (!parsed.success) return undefined;
	const { r, a, u, e } = parsed.output;
	if (e <= now || r !== expected.roomId || u !== expected.userId) return undefined;
	return { roomId: r, actor: a, userId: u, expiresAt: e };
}
