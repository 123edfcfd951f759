/**
 * Participants of a matched study driven over HTTP and a real room socket, as their pages drive
 * them: start from the study link, pass the ready check, wait (with heartbeats) until a group
 * forms, then open the room socket under the study link with their cookie.
 */
import { PROTOCOL_VERSION, type ServerMessage } from '../../src/lib/protocol';
import type { AdminApi } from './study-server';
import { actOnStep, joinStudy, readStep, sendHeartbeat, type JourneyServer } from './journey';

/** One participant in a room: their cookie, and the socket when open. */
export type RoomParticipant = {
	cookie: string;
	roomId: string;
	participantId: string;
	socket?: WebSocket;
	frames: ServerMessage[];
};

/** Starts `count` participants and passes the ready check: they wait for a group. */
export async function enterWaitingRoom(
	server: JourneyServer,
	slug: string,
	count: number
): Promise<string[]> {
	const cookies: string[] = [];
	for (let i = 0; i < count; i++) {
		const cookie = await joinStudy(server, slug);
		const ready = await actOnStep(server, slug, cookie, 'ready');
		if (ready.type !== 'redirect' && ready.type !== 'success') {
			throw new Error(`ready: ${ready.type} ${ready.status}`);
		}
		cookies.push(cookie);
	}
	return cookies;
}

/** Waits (beating like the waiting page) until every cookie's participant is in a room. */
export async function waitForRooms(
	server: JourneyServer,
	slug: string,
	cookies: string[],
	timeoutMs = 30_000
): Promise<string[]> {
	const deadline = Date.now() + timeoutMs;
	const rooms: (string | null)[] = cookies.map(() => null);
	while (rooms.some((room) => room === null)) {
		if (Date.now() > deadline) throw new Error('timed out waiting for the group to form');
		for (const [i, cookie] of cookies.entries()) {
			if (rooms[i] !== null) continue;
			await sendHeartbeat(server, slug, cookie);
			const step = await readStep(server, slug, cookie);
			if (step?.kind === 'in_room' && typeof step.roomId === 'string') rooms[i] = step.roomId;
		}
		await Bun.sleep(200);
	}
	return rooms as string[];
}

/** Bun's WebSocket takes headers (a browser would send Origin and the cookie itself). */
const BunWebSocket = WebSocket as unknown as new (
	url: string,
	options: Bun.WebSocketOptions
) => WebSocket;

/** Opens the participant's room socket and joins; resolves once `joined` arrived. */
export function openRoomSocket(
	server: JourneyServer,
	slug: string,
	participant: RoomParticipant,
	lastSeq = 0
): Promise<void> {
	const url = `${server.base.replace(/^http/, 'ws')}/s/${slug}/realtime/${participant.roomId}`;
	const socket = new BunWebSocket(url, {
		headers: { origin: server.origin, cookie: participant.cookie }
	});
	participant.socket = socket;
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('no joined within 15 s')), 15_000);
		socket.addEventListener('open', () => {
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq }));
		});
		socket.addEventListener('message', (event) => {
			const message = JSON.parse(String(event.data)) as ServerMessage;
			participant.frames.push(message);
			if (message.type === 'joined') {
				participant.participantId = message.actor;
				clearTimeout(timer);
				resolve();
			}
		});
		socket.addEventListener('close', (event) => {
			clearTimeout(timer);
			reject(new Error(`socket closed before joined: ${event.code}`));
		});
	});
}

/** The highest seq this participant's socket saw (to resume from). */
export function lastSeqSeen(participant: RoomParticipant): number {
	let last = 0;
	for (const frame of participant.frames) {
		if (frame.type === 'event') last = Math.max(last, frame.event.seq);
		if (frame.type === 'events') for (const e of frame.events) last = Math.max(last, e.seq);
	}
	return last;
}

/** Forms a group of `size` and opens every member's socket. */
export async function formGroup(
	server: JourneyServer,
	slug: string,
	size: number
): Promise<RoomParticipant[]> {
	const cookies = await enterWaitingRoom(server, slug, size);
	const roomIds = await waitForRooms(server, slug, cookies);
	const members = cookies.map((cookie, i) => ({
		cookie,
		roomId: roomIds[i]!,
		participantId: '',
		frames: []
	}));
	await Promise.all(members.map((member) => openRoomSocket(server, slug, member)));
	return members;
}

/** The participants' outcomes by id, read through the API as the researcher would. */
export async function readOutcomes(
	api: AdminApi,
	studyId: string
): Promise<Record<string, string | null>> {
	const { participants } = await api<{ participants: { id: string; outcome: string | null }[] }>(
		'GET',
		`/api/studies/${studyId}/participants?limit=200`
	);
	return Object.fromEntries(participants.map((p) => [p.id, p.outcome]));
}

/** Polls until every one of `ids` has an outcome; the time it happened (ms since the epoch). */
export async function waitForOutcomes(
	api: AdminApi,
	studyId: string,
	ids: string[],
	timeoutMs: number
): Promise<{ at: number; outcomes: Record<string, string | null> }> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const outcomes = await readOutcomes(api, studyId);
		if (ids.every((id) => outcomes[id])) return { at: Date.now(), outcomes };
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for outcomes: ${JSON.stringify(outcomes)}`);
		}
		await Bun.sleep(250);
	}
}
