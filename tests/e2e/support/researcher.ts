import { expect, type Browser, type BrowserContext } from '@playwright/test';
import type { StudyDefinition } from '../../../src/lib/study';

/** The one account of a fresh e2e server: the first test to run creates it, the rest sign in. */
const ADMIN = { name: 'Jo Journey', email: 'jo@journey.test', password: 'sturdy evening lantern' };

/** One event of a room's log as the experimenter's socket delivers it. */
export type RoomLogEvent = { seq: number; name: string; payload: Record<string, unknown> };

/**
 * A signed-in researcher in their own context. First-run setup when the server is fresh;
 * otherwise (setup answers with a redirect to the sign-in page) a normal sign-in, so each test
 * in a file can run alone or after the others.
 */
export async function signInResearcher(browser: Browser, baseURL: string): Promise<BrowserContext> {
	const context = await browser.newContext({ baseURL });
	const headers = { origin: baseURL, accept: 'text/html' };
	const setup = await context.request.post('/setup', {
		headers,
		form: { ...ADMIN, confirm: ADMIN.password },
		maxRedirects: 0
	});
	expect(setup.status()).toBe(303);
	if (setup.headers()['location']?.startsWith('/login')) {
		const signIn = await context.request.post('/login', {
			headers,
			form: { email: ADMIN.email, password: ADMIN.password },
			maxRedirects: 0
		});
		expect(signIn.status(), await signIn.text()).toBe(303);
	}
	return context;
}

/** Creates a study with `definition` through the API and publishes it; returns its id and link. */
export async function publishStudy(
	researcher: BrowserContext,
	baseURL: string,
	definition: StudyDefinition
): Promise<{ id: string; link: string }> {
	const request = researcher.request;
	const headers = { origin: baseURL };
	const created = await request.post('/api/studies', {
		headers,
		data: { title: definition.settings.title }
	});
	expect(created.ok(), await created.text()).toBe(true);
	const { id } = (await created.json()) as { id: string };
	const detail = (await (await request.get(`/api/studies/${id}`)).json()) as {
		revision: number;
		slug: string;
	};
	const saved = await request.put(`/api/studies/${id}`, {
		headers,
		data: { definition, revision: detail.revision }
	});
	expect(saved.ok(), await saved.text()).toBe(true);
	const published = await request.post(`/api/studies/${id}/publish`, { headers });
	expect(published.status(), await published.text()).toBe(201);
	return { id, link: `/s/${detail.slug}` };
}

/**
 * The researcher reads a room's whole log over their own socket (PROTOCOL §8a), up to the head
 * the server announced on join: the log is the record of every answer and outcome.
 */
export async function readRoomLog(
	researcher: BrowserContext,
	roomId: string
): Promise<RoomLogEvent[]> {
	const page = await researcher.newPage();
	await page.goto('/');
	const events = await page.evaluate(
		(roomId) =>
			new Promise<RoomLogEvent[]>((resolve, reject) => {
				const url = new URL(`/realtime/rooms/${roomId}`, location.origin);
				url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
				const socket = new WebSocket(url);
				const seen = new Map<number, RoomLogEvent>();
				let head = -1;
				let last = 0;
				socket.onopen = () => socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq: 0 }));
				socket.onerror = () => reject(new Error('socket error'));
				socket.onmessage = (message) => {
					const frame = JSON.parse(String(message.data));
					if (frame.type === 'joined') head = frame.head;
					const batch = frame.type === 'event' ? [frame.event] : (frame.events ?? []);
					for (const event of batch) {
						seen.set(event.seq, event);
						last = Math.max(last, event.seq);
					}
					if (head >= 0 && last >= head) {
						socket.close();
						resolve([...seen.values()].sort((x, y) => x.seq - y.seq));
					}
				};
			}),
		roomId
	);
	await page.close();
	return events;
}

/** How many events named `name` the log holds per member (`payload.memberId`), filtered. */
export function countPerMember(
	events: readonly RoomLogEvent[],
	name: string,
	where: (payload: Record<string, unknown>) => boolean = () => true
): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const event of events) {
		if (event.name !== name || !where(event.payload)) continue;
		const member = String(event.payload.memberId);
		counts[member] = (counts[member] ?? 0) + 1;
	}
	return counts;
}

/**
 * The experimenter ends a room over their own socket (`room.end`, PROTOCOL §8a): every member
 * gets `outcome`. Resolves once the server acknowledged the command; a refusal rejects.
 */
export async function endRoom(
	researcher: BrowserContext,
	roomId: string,
	outcome: string
): Promise<void> {
	const page = await researcher.newPage();
	await page.goto('/');
	const answer = await page.evaluate(
		({ roomId, outcome }) =>
			new Promise<{ type: string; reason?: string; message?: string }>((resolve, reject) => {
				const url = new URL(`/realtime/rooms/${roomId}`, location.origin);
				url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
				const socket = new WebSocket(url);
				const id = crypto.randomUUID();
				socket.onopen = () => socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq: 0 }));
				socket.onerror = () => reject(new Error('socket error'));
				socket.onmessage = (message) => {
					const frame = JSON.parse(String(message.data));
					if (frame.type === 'joined') {
						const payload = { outcome };
						socket.send(JSON.stringify({ type: 'command', id, name: 'room.end', payload }));
					}
					if ((frame.type === 'ack' || frame.type === 'rejected') && frame.id === id) {
						socket.close();
						resolve(frame);
					}
				};
			}),
		{ roomId, outcome }
	);
	await page.close();
	expect(answer.type, `room.end: ${answer.reason ?? ''} ${answer.message ?? ''}`).toBe('ack');
}
