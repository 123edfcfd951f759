import { PROTOCOL_VERSION } from '$lib/protocol';
import type { MemberView } from '$lib/room/study/view';
import type { Outcome } from '$lib/study';
import type { Random } from '$lib/study/answers-sample';
import type { LinkClient } from './link-client';
import { planStageAction, type BotAction } from './plan';
import { pickThinkMs } from './timing';

/** How a bot's time in the room ended. */
export type RoomEnd =
	| { kind: 'outcome'; outcome: Outcome; participantId: string | null; roomId: string | null }
	| { kind: 'dropped'; participantId: string | null; roomId: string | null }
	| { kind: 'stopped' }
	| { kind: 'failed'; reason: string };

export type RoomSessionOptions = {
	random: Random;
	thinkMs: readonly [number, number];
	dropoutProbability: number;
	chat: boolean;
	signal: AbortSignal;
};

// The reference client pings after 15 s of silence; a bot does the same so that neither side
// gives up on a quiet socket during a long timed stage.
const PING_INTERVAL_MS = 15_000;
// A socket that closes by surprise is reopened a few times (a replica restarting); within the
// server's presence grace period that has no effect on the study.
const MAX_RECONNECTS = 5;
const RECONNECT_DELAY_MS = 500;

/**
 * One bot's time in its room: opens the participant socket with the study cookie, joins, and
 * acts on each `view` after a think time, until the view carries its outcome. With
 * `dropoutProbability` per stage it drops out instead: closes the socket and never returns,
 * which the room treats like a closed tab (its presence grace, then the stage's policy).
 */
export function runRoomSession(
	client: LinkClient,
	roomId: string,
	options: RoomSessionOptions
): Promise<RoomEnd> {
	return new Promise<RoomEnd>((resolve) => {
		const { random, signal } = options;
		let socket: WebSocket | null = null;
		let participantId: string | null = null;
		let latest: MemberView | null = null;
		let pending: ReturnType<typeof setTimeout> | null = null;
		let ping: ReturnType<typeof setInterval> | null = null;
		let settled = false;
		let reconnects = 0;
		let commandCount = 0;
		const rolledStages = new Set<string>();
		const chatted = new Set<string>();

		function finish(end: RoomEnd): void {
			if (settled) return;
			settled = true;
			if (pending) clearTimeout(pending);
			if (ping) clearInterval(ping);
			signal.removeEventListener('abort', onAbort);
			socket?.close(1000, 'done');
			resolve(end);
		}
		function onAbort(): void {
			finish({ kind: 'stopped' });
		}
		signal.addEventListener('abort', onAbort);

		function send(frame: unknown): void {
			if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
		}

		function command(name: string, payload: unknown): void {
			send({ type: 'command', id: `bot-${++commandCount}-${crypto.randomUUID()}`, name, payload });
		}

		function perform(action: BotAction): void {
			switch (action.kind) {
				case 'none':
					return;
				case 'submit':
					return command('stage.submit', { stageId: action.stageId, response: action.response });
				case 'pick':
					return command('group_choice.pick', { stageId: action.stageId, option: action.option });
				case 'buffered':
					return command('media.buffered', { stageId: action.stageId });
				case 'chat':
					chatted.add(action.stageId);
					return command('chat.send', { stageId: action.stageId, text: action.text });
			}
		}

		/** Decides on the latest view; acts after a think time (planning again then). */
		function consider(): void {
			if (settled || pending || !latest) return;
			const view = latest;
			if (view.outcome !== null) {
				finish({ kind: 'outcome', outcome: view.outcome, participantId, roomId });
				return;
			}
			const stage = view.stage;
			if (!stage) return;
			const stageKey = `${view.stageIndex}:${stage.id}`;
			const thinkMs = pickThinkMs(random, options.thinkMs);
			const plan = () =>
				planStageAction(latest!, { chatted }, { chat: options.chat, random, rtMs: thinkMs });
			const firstLook = !rolledStages.has(stageKey);
			if (!firstLook && plan().kind === 'none') return;
			rolledStages.add(stageKey);
			pending = setTimeout(() => {
				pending = null;
				if (settled) return;
				// Each stage is one chance to leave, as a participant might close the tab.
				if (firstLook && random() < options.dropoutProbability) {
					finish({ kind: 'dropped', participantId, roomId });
					return;
				}
				const action = plan();
				perform(action);
				// A submit or pick changes the view, which brings the next decision; a chat line
				// may not, so the bot goes on with the stage at once.
				if (action.kind === 'chat' || action.kind === 'none') consider();
			}, thinkMs);
		}

		function onFrame(data: unknown): void {
			let frame: { type?: string; actor?: { id?: string }; scope?: string; view?: MemberView };
			try {
				frame = JSON.parse(String(data)) as typeof frame;
			} catch {
				return;
			}
			if (frame.type === 'joined') {
				participantId = frame.actor?.id ?? participantId;
				reconnects = 0;
			} else if (frame.type === 'view' && frame.scope === 'member' && frame.view) {
				latest = frame.view;
				consider();
			} else if (frame.type === 'rejected') {
				// A stale submit after the room moved on, `already_submitted` after a reconnect:
				// decide again on the latest view (the next one may never come).
				consider();
			}
		}

		function connect(): void {
			if (settled) return;
			const opened = new WebSocket(client.roomSocketUrl(roomId), {
				headers: { cookie: client.cookie, origin: client.target.origin }
			} as unknown as string[]);
			socket = opened;
			opened.addEventListener('open', () => {
				opened.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			});
			opened.addEventListener('message', (event) => onFrame(event.data));
			opened.addEventListener('close', (event) => {
				if (settled || socket !== opened) return;
				if (reconnects >= MAX_RECONNECTS) {
					finish({ kind: 'failed', reason: `socket_closed_${event.code}` });
					return;
				}
				reconnects++;
				setTimeout(connect, RECONNECT_DELAY_MS * reconnects);
			});
		}

		ping = setInterval(
			() => send({ type: 'ping', id: Date.now(), t0: Date.now() }),
			PING_INTERVAL_MS
		);
		connect();
	});
}
