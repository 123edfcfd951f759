import { describe, expect, test } from 'bun:test';
import type { ConnectionAuth } from '../../src/lib/server/realtime/connection';
import {
	DEFAULT_SOCKET_CAPS,
	identityKeysOf,
	IdentitySockets
} from '../../src/lib/server/realtime/socket-caps';

type Socket = { name: string; auth: ConnectionAuth };

const participant = (name: string, roomId = 'r1', id = 'p1'): Socket => ({
	name,
	auth: { roomId, actor: { id, role: 'participant' } }
});
const session = (name: string, roomId: string): Socket => ({
	name,
	auth: { roomId, actor: { id: 'u:1', role: 'experimenter' }, sessionId: 's1' }
});
const ticket = (name: string, hash: string, id = 'u:1'): Socket => ({
	name,
	auth: { roomId: 'r1', actor: { id, role: 'observer' }, ticketHash: hash }
});

const sockets = (caps = DEFAULT_SOCKET_CAPS) =>
	new IdentitySockets<Socket>((socket) => identityKeysOf(socket.auth, caps));

describe('sockets per identity', () => {
	test('a participant holds one socket per room: the newest wins', () => {
		const registry = sockets();
		const first = participant('first');
		expect(registry.admit(first)).toEqual([]);
		const second = participant('second');
		expect(registry.admit(second)).toEqual([first]);
		// Another participant, or the same id in another room (sandbox tickets), is someone else.
		expect(registry.admit(participant('other', 'r1', 'p2'))).toEqual([]);
		expect(registry.admit(participant('elsewhere', 'r2'))).toEqual([]);
		// A displaced socket's own close later changes nothing.
		registry.release(first);
		expect(registry.admit(participant('third'))).toEqual([second]);
	});

	test('a burst of 200 sockets of one identity leaves exactly the cap, the newest', () => {
		const registry = sockets({ ...DEFAULT_SOCKET_CAPS, perSession: 3 });
		const all = Array.from({ length: 200 }, (_, i) => session(`s${i}`, `room-${i % 7}`));
		const displaced = all.flatMap((socket) => registry.admit(socket));
		expect(displaced).toEqual(all.slice(0, 197));
		expect(registry.countOf('s\u0000s1')).toBe(3);
	});

	test('tickets count per ticket; copies of one ticket displace each other', () => {
		const registry = sockets();
		const a = ticket('a', 'h1');
		expect(registry.admit(a)).toEqual([]);
		expect(registry.admit(ticket('b', 'h2'))).toEqual([]);
		expect(registry.admit(ticket('c', 'h1'))).toEqual([a]);
	});

	test('closing releases: an identity with no socket is forgotten', () => {
		const registry = sockets();
		const socket = participant('only');
		registry.admit(socket);
		expect(registry.identities).toBe(1);
		registry.release(socket);
		registry.release(socket);
		expect(registry.identities).toBe(0);
	});
});
