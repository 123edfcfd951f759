import { describe, expect, test } from 'bun:test';
import {
	canSendEphemeral,
	canSendTelemetry,
	isReservedActorId,
	userActorId
} from '../../src/lib/room/actors';
import {
	judgeGrant,
	type AccessGrant,
	type GrantFacts
} from '../../src/lib/server/realtime/grants';
import {
	signGuest,
	signTicket,
	verifyGuest,
	verifyTicket,
	type TicketClaims
} from '../../src/lib/server/realtime/tickets';

const KEY = new Uint8Array(32).fill(7);
const NOW = 1_732_251_234_567;

describe('actor ids are the server’s', () => {
	test('`system` and the `u:` prefix are reserved for the server and for accounts', () => {
		expect(isReservedActorId('system')).toBe(true);
		expect(isReservedActorId(userActorId('abc'))).toBe(true);
		expect(isReservedActorId('u:anything')).toBe(true);
		for (const id of ['p-3kq8z1x0c7v2', 'g-7qk2m9x0c3v5b1nz', 'systemic', 'user']) {
			expect({ id, reserved: isReservedActorId(id) }).toEqual({ id, reserved: false });
		}
	});

	test('only members send telemetry; observers send no ephemeral messages', () => {
		expect(
			['participant', 'bot', 'experimenter', 'observer'].map((r) => canSendTelemetry(r as never))
		).toEqual([true, true, false, false]);
		expect(
			['participant', 'bot', 'experimenter', 'observer'].map((r) => canSendEphemeral(r as never))
		).toEqual([true, true, true, false]);
	});
});

describe('room tickets', () => {
	const claims: TicketClaims = {
		id: 'ticket-1',
		roomId: 'r-1',
		actor: 'u:alice',
		role: 'observer',
		userId: 'alice',
		credential: { kind: 'session', id: 'session-1' },
		expiresAt: NOW + 30_000
	};

	test('carry the ticket id, the minting user and their credential, and expire', () => {
		const ticket = signTicket(KEY, claims);
		expect(verifyTicket(KEY, ticket, NOW)).toEqual({ ok: true, claims });
		expect(verifyTicket(KEY, ticket, NOW + 30_000)).toEqual({ ok: false, reason: 'expired' });
		expect(verifyTicket(new Uint8Array(32), ticket, NOW)).toEqual({
			ok: false,
			reason: 'signature'
		});
	});

	test('a guest token is never accepted as a ticket, nor a ticket as a guest token', () => {
		const guest = signGuest(KEY, {
			roomId: 'r-1',
			actor: 'g-1',
			userId: 'alice',
			expiresAt: NOW + 1
		});
		expect(verifyTicket(KEY, guest, NOW)).toEqual({ ok: false, reason: 'signature' });
		const ticket = signTicket(KEY, claims);
		expect(verifyGuest(KEY, ticket, { roomId: 'r-1', userId: 'alice' }, NOW)).toBeUndefined();
	});

	test('a guest resumes only for the user it was made for, in its room, before it expires', () => {
		const guest = signGuest(KEY, {
			roomId: 'r-1',
			actor: 'g-1',
			userId: 'alice',
			expiresAt: NOW + 1
		});
		expect(verifyGuest(KEY, guest, { roomId: 'r-1', userId: 'alice' }, NOW)?.actor).toBe('g-1');
		expect(verifyGuest(KEY, guest, { roomId: 'r-1', userId: 'mallory' }, NOW)).toBeUndefined();
		expect(verifyGuest(KEY, guest, { roomId: 'r-2', userId: 'alice' }, NOW)).toBeUndefined();
		expect(verifyGuest(KEY, guest, { roomId: 'r-1', userId: 'alice' }, NOW + 1)).toBeUndefined();
	});
});

describe('access grants are judged like a page load would be', () => {
	const grant = (over: Partial<AccessGrant> = {}): AccessGrant => ({
		userId: 'ed',
		studyId: 's-1',
		credential: { kind: 'session', id: 'session-1' },
		needs: 'edit',
		...over
	});
	const facts = (over: Partial<GrantFacts> = {}): GrantFacts => ({
		role: 'researcher',
		disabled: false,
		credentialLive: true,
		study: { ownerId: 'olga', permission: 'edit' },
		...over
	});

	test('edit share, live session: ok', () => {
		expect(judgeGrant(grant(), facts())).toBe('ok');
	});

	test('unshared, demoted to view (study or account), disabled, deleted: revoked', () => {
		expect(judgeGrant(grant(), facts({ study: { ownerId: 'olga', permission: null } }))).toBe(
			'revoked'
		);
		expect(judgeGrant(grant(), facts({ study: { ownerId: 'olga', permission: 'view' } }))).toBe(
			'revoked'
		);
		expect(judgeGrant(grant(), facts({ role: 'viewer' }))).toBe('revoked');
		expect(judgeGrant(grant(), facts({ disabled: true, credentialLive: false }))).toBe('revoked');
		expect(judgeGrant(grant(), facts({ study: null }))).toBe('revoked');
		expect(judgeGrant(grant(), undefined)).toBe('revoked');
	});

	test('a view grant survives a demotion to view; a sandbox guest needs a non-viewer account', () => {
		const view = grant({ needs: 'view' });
		expect(judgeGrant(view, facts({ study: { ownerId: 'olga', permission: 'view' } }))).toBe('ok');
		expect(judgeGrant(view, facts({ role: 'viewer' }))).toBe('ok');
		const sandbox = grant({ studyId: null });
		expect(judgeGrant(sandbox, facts({ study: null }))).toBe('ok');
		expect(judgeGrant(sandbox, facts({ study: null, role: 'viewer' }))).toBe('revoked');
	});

	test('an ended session or revoked token: signed out', () => {
		expect(judgeGrant(grant(), facts({ credentialLive: false }))).toBe('signed_out');
	});
});
