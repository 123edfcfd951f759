import { describe, expect, test } from 'bun:test';
import { MemberCommands } from '../../src/lib/client/member-commands';
import { describeRefusal, excerptText } from '../../src/lib/client/refusals';
import {
	RoomClient,
	type Timers,
	type WebSocketConstructor,
	type WebSocketLike
} from '../../src/lib/client/room-client';
import { PROTOCOL_VERSION, type ServerMessage } from '../../src/lib/protocol';

/**
 * Refusals of a participant's commands reach the room page (issue 14 §6): the scenario seen was
 * a replica dying at a chat stage's deadline; the page reconnected and resent messages typed
 * just before; the new replica had already ended the stage and refused them, and nothing showed
 * because the chat box was gone. The client now keeps every refusal as a notice for the page,
 * whoever awaits the command. Frames are fed by hand to a RoomClient over a scripted socket.
 */

class ManualTimers {
	now = 0;
	readonly #pending = new Map<number, { at: number; run: () => void }>();
	#next = 1;
	readonly timers: Timers = {
		setTimeout: (run, ms) => {
			const id = this.#next++;
			this.#pending.set(id, { at: this.now + ms, run });
			return id;
		},
		clearTimeout: (id) => void this.#pending.delete(id as number)
	};

	advance(ms: number): void {
		const end = this.now + ms;
		for (;;) {
			const due = [...this.#pending]
				.filter(([, t]) => t.at <= end)
				.sort((a, b) => a[1].at - b[1].at);
			const first = due[0];
			if (!first) break;
			this.#pending.delete(first[0]);
			this.now = first[1].at;
			first[1].run();
		}
		this.now = end;
	}
}

/** A socket the test drives: it records what the client sends and delivers what the test says. */
class ScriptedSocket implements WebSocketLike {
	static opened: ScriptedSocket[] = [];
	readyState = 0;
	readonly sent: Record<string, unknown>[] = [];
	onopen: WebSocketLike['onopen'] = null;
	onmessage: WebSocketLike['onmessage'] = null;
	onclose: WebSocketLike['onclose'] = null;
	onerror: WebSocketLike['onerror'] = null;

	constructor() {
		ScriptedSocket.opened.push(this);
	}
	send(data: string): void {
		this.sent.push(JSON.parse(data) as Record<string, unknown>);
	}
	close(): void {
		this.readyState = 3;
	}
	open(): void {
		this.readyState = 1;
		this.onopen?.(new Event('open'));
	}
	deliver(message: ServerMessage): void {
		this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(message) }));
	}
	drop(code = 1006): void {
		this.readyState = 3;
		this.onclose?.(new CloseEvent('close', { code }));
	}
	commands(): { id: string; name: string; payload: unknown }[] {
		return this.sent.filter((frame) => frame.type === 'command') as never;
	}
}

function setUp() {
	ScriptedSocket.opened = [];
	const clock = new ManualTimers();
	const client = new RoomClient({
		url: () => 'ws://room.test/s/study/realtime/r1',
		WebSocket: ScriptedSocket as unknown as WebSocketConstructor,
		timers: clock.timers,
		now: () => clock.now,
		random: () => 0.5,
		heartbeatMs: 0
	});
	const changes: number[] = [];
	const commands = new MemberCommands({
		send: (name, payload) => client.send(name, payload),
		onNotices: (notices) => changes.push(notices.length)
	});
	const socket = () => ScriptedSocket.opened.at(-1)!;
	/** Opens the newest socket and answers its join. */
	const join = () => {
		socket().open();
		expect(socket().sent[0]).toMatchObject({ type: 'join', v: PROTOCOL_VERSION });
		socket().deliver({ type: 'joined', room: 'r1', actor: 'p1', head: 0, serverTime: clock.now });
	};
	client.connect();
	join();
	return { clock, client, commands, changes, socket, join };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('refusals of resent commands', () => {
	test('a chat message resent after a reconnect and refused shows as a notice', async () => {
		const { clock, client, commands, socket, join } = setUp();
		let result: unknown = 'pending';
		void commands
			.run('chat.send', { stageId: 'chat', text: 'see you at five' }, [])
			.then((r) => (result = r));
		const [sent] = socket().commands();
		expect(sent).toMatchObject({ name: 'chat.send' });

		// The replica dies before answering; the client reconnects and resends the same id.
		socket().drop();
		clock.advance(10_000);
		join();
		const [resent] = socket().commands();
		expect(resent!.id).toBe(sent!.id);

		// The new replica's timer had ended the chat stage: the resend is refused.
		socket().deliver({
			type: 'rejected',
			id: resent!.id,
			reason: 'wrong_stage',
			message: 'The room is on another stage now.'
		});
		await settle();
		expect(result).toEqual({
			ok: false,
			reason: 'wrong_stage',
			message: 'The room is on another stage now.'
		});
		// Whoever awaited the result (a chat box that is gone), the page has the notice.
		expect(commands.notices).toEqual([
			{
				id: 1,
				reason: 'wrong_stage',
				text: 'Your message “see you at five” was not sent: the chat had already ended.'
			}
		]);
		expect(client.pending).toBe(0);
	});

	test('several refused messages each get a notice; dismissing removes only that one', async () => {
		const { commands, socket, changes } = setUp();
		for (const text of ['one', 'two', 'three']) {
			void commands.run('chat.send', { stageId: 'chat', text }, []);
		}
		for (const command of socket().commands()) {
			socket().deliver({
				type: 'rejected',
				id: command.id,
				reason: 'room_finished',
				message: 'This study session has ended.'
			});
		}
		await settle();
		expect(commands.notices.map((n) => n.text)).toEqual([
			'Your message “one” was not sent: the session had already ended.',
			'Your message “two” was not sent: the session had already ended.',
			'Your message “three” was not sent: the session had already ended.'
		]);
		commands.dismiss(commands.notices[1]!.id);
		expect(commands.notices.map((n) => n.text)).toHaveLength(2);
		expect(commands.notices.map((n) => n.text).join()).not.toContain('two');
		expect(changes).toEqual([1, 2, 3, 2]);
	});

	test('an answer already stored counts as done and shows nothing; acks show nothing', async () => {
		const { commands, socket } = setUp();
		const first = commands.run('stage.submit', { stageId: 's', response: {} }, [
			'already_submitted'
		]);
		const second = commands.run('chat.send', { stageId: 'chat', text: 'hi' }, []);
		const [submit, chat] = socket().commands();
		socket().deliver({
			type: 'rejected',
			id: submit!.id,
			reason: 'already_submitted',
			message: 'x'
		});
		socket().deliver({ type: 'ack', id: chat!.id, seq: 4 });
		expect(await first).toEqual({ ok: true });
		expect(await second).toEqual({ ok: true });
		expect(commands.notices).toEqual([]);
	});

	test('a refused answer names the server’s reason; the page’s own media.buffered does not', async () => {
		const { commands, socket } = setUp();
		void commands.run('stage.submit', { stageId: 's', response: 'x' }, ['already_submitted']);
		void commands.run('media.buffered', { stageId: 'clip' }, ['no_change']);
		const [submit, buffered] = socket().commands();
		socket().deliver({
			type: 'rejected',
			id: submit!.id,
			reason: 'invalid_answers',
			message: 'One answer does not fit the questions: “mood”: Please choose a point from 1 to 7.'
		});
		socket().deliver({ type: 'rejected', id: buffered!.id, reason: 'wrong_stage', message: 'x' });
		await settle();
		expect(commands.notices.map((n) => n.text)).toEqual([
			'Your answer was not saved. One answer does not fit the questions: “mood”: Please choose a point from 1 to 7.'
		]);
	});

	test('a closed client settles its queue as refusals the page can show', async () => {
		const { client, commands } = setUp();
		const pending = commands.run('goal.set', { stageId: 't', text: 'write 500 words' }, []);
		client.close();
		expect(await pending).toMatchObject({ ok: false, reason: 'client_closed' });
		expect(commands.notices[0]!.text).toBe(
			'Your goal was not saved: the connection to your group ended.'
		);
	});

	test('at most five notices are kept, the newest', async () => {
		const { commands, socket } = setUp();
		for (let i = 1; i <= 7; i++)
			void commands.run('chat.send', { stageId: 'c', text: `m${i}` }, []);
		for (const command of socket().commands()) {
			socket().deliver({ type: 'rejected', id: command.id, reason: 'wrong_stage', message: 'x' });
		}
		await settle();
		expect(commands.notices.map((n) => n.text.match(/m\d/)?.[0])).toEqual([
			'm3',
			'm4',
			'm5',
			'm6',
			'm7'
		]);
	});
});

describe('the wording of a refusal', () => {
	const refusal = (reason: string, message = 'Server says no.') => ({ reason, message });

	test('each command says what was lost', () => {
		const cases: [string, unknown, string][] = [
			['chat.send', { text: 'hello' }, 'Your message “hello” was not sent'],
			['stage.submit', {}, 'Your answer was not saved'],
			['group_choice.pick', { option: 'a' }, 'Your choice was not saved'],
			['consent.decline', {}, 'Your choice not to take part was not saved'],
			['goal.set', { text: 'focus' }, 'Your goal was not saved'],
			['goal.set', { text: '' }, 'Clearing your goal did not take effect'],
			['playback.control', { action: 'pause' }, 'Pausing the video did not take effect'],
			['playback.control', { action: 'seek' }, 'Moving the video did not take effect'],
			['future.command', {}, 'Your action was not accepted']
		];
		for (const [name, payload, start] of cases) {
			expect(describeRefusal({ name, payload }, refusal('odd_reason'))).toBe(
				`${start}. Server says no.`
			);
		}
	});

	test('known reasons are said in the participant’s words', () => {
		const chat = { name: 'chat.send', payload: { text: 'hi' } };
		const answer = { name: 'stage.submit', payload: {} };
		expect(describeRefusal(chat, refusal('wrong_stage'))).toBe(
			'Your message “hi” was not sent: the chat had already ended.'
		);
		expect(describeRefusal(chat, refusal('chat_not_allowed'))).toBe(
			'Your message “hi” was not sent: the chat had already ended.'
		);
		expect(describeRefusal(answer, refusal('wrong_stage'))).toBe(
			'Your answer was not saved: the group had already moved on.'
		);
		expect(describeRefusal(answer, refusal('member_finished'))).toBe(
			'Your answer was not saved: you had already finished.'
		);
		expect(describeRefusal(answer, refusal('try_again'))).toBe(
			'Your answer was not saved: the server was busy. Please try again.'
		);
		expect(describeRefusal(answer, refusal('paused'))).toBe(
			'Your answer was not saved: the session is paused.'
		);
	});

	test('long or multi-line messages are cut to one short line', () => {
		expect(excerptText('  see\nyou   at\tfive  ')).toBe('see you at five');
		const long = excerptText('a'.repeat(100));
		expect(long).toHaveLength(40);
		expect(long.endsWith('…')).toBe(true);
	});
});
