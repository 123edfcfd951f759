import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import { synthesizeRrIntervals } from '../../src/lib/signals';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import type { StudyRoomSummary } from '../../src/lib/server/replay/rooms';
import type { TimelineEntry } from '../../src/lib/room/study/timeline';
import type {
	CoherencePlot,
	RatingsPlot,
	StageDurationsPlot,
	SyncPlot
} from '../../src/lib/server/plots/types';
import { nextMessage, opened, openSocket } from '../support/app';
import { actOnStep, joinStudy, readStep, type JourneyServer } from '../support/journey';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type StudyServer
} from '../support/study-server';
import type { RunningServer } from '../support/server';

// Session replay and plots on the built server: a room run by two bots is listed, its timeline
// holds every logged event once, in order, and reads back the room's state at any seq; a
// participant's real telemetry becomes the plots' series; a researcher without access to the
// study gets 404 everywhere; every replay is audited, refusals are not.
setDefaultTimeout(120_000);

const PASSWORD = 'sturdy evening lantern';

type LogEvent = { seq: number; name: string; actor: string; payload: Record<string, unknown> };

/** Consent alone, then in the room: a group choice, a 2 s chat, the end. */
function makeBotStudy(): StudyDefinition {
	const study = createBlankStudy('Replay');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'You agree to take part.';
	const pick = createStage('group_choice', []);
	if (pick.type === 'group_choice') pick.content.prompt = 'Which one?';
	const talk = createStage('chat', []);
	study.stages = [
		{ ...consent, id: 'consent' },
		{ ...pick, id: 'pick', title: 'Pick one', advance: 'all_submitted' },
		{ ...talk, id: 'talk', title: 'Talk', advance: 'timer', durationSeconds: 2 },
		{ ...createStage('end', []), id: 'end', title: 'Thanks' }
	] as Stage[];
	return study;
}

/** A room of one that chats for ten minutes: time for the participant's telemetry. */
function makeTelemetryStudy(): StudyDefinition {
	const study = createBlankStudy('Telemetry');
	study.settings.session = {
		mode: 'matched',
		groupSize: 1,
		minGroupSize: 1,
		lobbyTimeoutSeconds: 60
	};
	const talk = createStage('chat', []);
	study.stages = [
		{ ...talk, id: 'film', title: 'Film', advance: 'timer', durationSeconds: 600 },
		{ ...createStage('end', []), id: 'end' }
	] as Stage[];
	return study;
}

const pg = requireService('TEST_DATABASE_URL', 'replay tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`session replay and plots on ${target.name}`, () => {
		let setup: StudyServer;
		let server: RunningServer;
		let rhea: string;
		let ben: string;
		let botStudy: { id: string; slug: string };
		let botRoom: string;
		let telemetryStudy: { id: string; slug: string };
		let telemetryRoom: string;
		let memberId: string;
		const T0 = Date.now();

		const at = (): JourneyServer => ({ base: server.url, origin: server.origin });
		const get = (path: string, cookie?: string) =>
			fetch(`${server.url}${path}`, { headers: cookie ? { cookie } : {} });
		const json = async <T>(path: string, cookie = rhea): Promise<T> => {
			const response = await get(path, cookie);
			const text = await response.text();
			if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
			return JSON.parse(text) as T;
		};

		async function signUp(email: string, name: string): Promise<string> {
			const { url } = await createAdminApi(server, setup.admin)<{ url: string }>(
				'POST',
				'/api/invites',
				{ role: 'researcher', email }
			);
			const response = await fetch(`${server.url}${new URL(url).pathname}`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: server.origin,
					'content-type': 'application/x-www-form-urlencoded',
					accept: 'text/html'
				},
				body: new URLSearchParams({ name, email, password: PASSWORD, confirm: PASSWORD })
			});
			const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
			if (response.status !== 303 || !cookie) throw new Error(`sign-up: ${response.status}`);
			return cookie.split(';')[0]!;
		}

		/** The room's whole log over the researcher's own socket, as PROTOCOL §8a serves it. */
		async function readLog(roomId: string): Promise<LogEvent[]> {
			const socket = openSocket(server, `/realtime/rooms/${roomId}`, { cookie: rhea });
			await opened(socket);
			const events = new Map<number, LogEvent>();
			let head = -1;
			const done = new Promise<void>((resolve) => {
				socket.addEventListener('message', (message) => {
					const frame = JSON.parse(String(message.data));
					if (frame.type === 'joined') head = frame.head;
					for (const event of frame.type === 'event' ? [frame.event] : (frame.events ?? [])) {
						events.set(event.seq, event);
					}
					if (head >= 0 && events.size >= head) resolve();
				});
			});
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			await done;
			socket.close();
			return [...events.values()].sort((a, b) => a.seq - b.seq);
		}

		/** Rows of `audit_events` for a study (Postgres only: PGlite is inside the server). */
		async function readAudit(studyId: string) {
			return setup.sql!<{ action: string; user_email: string; detail: Record<string, unknown> }[]>`
				select action, user_email, detail from audit_events where study_id = ${studyId} order by id`;
		}

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			server = setup.server;
			rhea = await signUp('rhea@replay.test', 'Rhea Researcher');
			ben = await signUp('ben@replay.test', 'Ben Researcher');
			const api = createAdminApi(server, rhea);

			// Two bots run Rhea's study to its end.
			botStudy = await publishStudy(api, makeBotStudy(), 'Replay');
			await api('POST', `/api/studies/${botStudy.id}/bots`, {
				count: 2,
				thinkMs: [10, 60],
				chat: true,
				seed: 11
			});
			const deadline = Date.now() + 60_000;
			for (;;) {
				const { bots } = await api<{ bots: { roomId: string | null; outcome: string | null }[] }>(
					'GET',
					`/api/studies/${botStudy.id}/bots`
				);
				if (bots.length === 2 && bots.every((bot) => bot.outcome !== null)) {
					botRoom = bots[0]!.roomId!;
					break;
				}
				if (Date.now() > deadline) throw new Error('the bots did not finish');
				await Bun.sleep(200);
			}

			// One participant in a room of their own, sending telemetry as their page would.
			telemetryStudy = await publishStudy(api, makeTelemetryStudy(), 'Telemetry');
			const cookie = await joinStudy(at(), telemetryStudy.slug);
			expect((await actOnStep(at(), telemetryStudy.slug, cookie, 'ready')).type).toBe('success');
			const step = await readStep(at(), telemetryStudy.slug, cookie);
			telemetryRoom = String(step!.roomId);
			const socket = openSocket(server, `/s/${telemetryStudy.slug}/realtime/${telemetryRoom}`, {
				cookie
			});
			await opened(socket);
			const joined = nextMessage<{ type: string; actor: string }>(
				socket,
				(m) => m.type === 'joined'
			);
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			memberId = (await joined).actor;
			for (const samples of makeTelemetry(T0)) {
				const answer = nextMessage<{ type: string; accepted: number }>(
					socket,
					(m) => m.type === 'telemetry'
				);
				socket.send(JSON.stringify({ type: 'telemetry', samples }));
				expect((await answer).accepted).toBe(samples.length);
			}
			socket.close();
		});
		afterAll(() => setup?.stop());

		test('the rooms list: the bots’ room finished, with its members and outcomes', async () => {
			const { rooms, next } = await json<{ rooms: StudyRoomSummary[]; next: string | null }>(
				`/api/studies/${botStudy.id}/rooms`
			);
			expect(next).toBeNull();
			expect(rooms).toHaveLength(1);
			expect(rooms[0]).toMatchObject({
				id: botRoom,
				version: 1,
				status: 'finished',
				roomOutcome: 'completed',
				members: 2,
				bots: 2,
				outcomes: { completed: 2 }
			});
			// The 2 s chat stage alone makes the room last at least that long.
			expect(rooms[0]!.durationMs).toBeGreaterThanOrEqual(2_000);
			expect(rooms[0]!.finishedAt! - rooms[0]!.startedAt).toBe(rooms[0]!.durationMs);
			const page = await json<{ rooms: StudyRoomSummary[]; next: string | null }>(
				`/api/studies/${botStudy.id}/rooms?limit=1`
			);
			expect(page.rooms.map((r) => r.id)).toEqual([botRoom]);
			const bad = await get(`/api/studies/${botStudy.id}/rooms?limit=0`, rhea);
			expect(bad.status).toBe(400);
			expect(await bad.json()).toMatchObject({ error: 'invalid_query' });
		});

		test('the timeline has every logged event once, in order, and the state at any seq', async () => {
			const log = await readLog(botRoom);
			const body = await json<{
				room: { id: string; headSeq: number };
				truncated: boolean;
				members: Record<string, string>;
				timeline: TimelineEntry[];
			}>(`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline`);
			expect(body.truncated).toBe(false);
			expect(body.timeline.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
			expect(body.timeline.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
			expect(body.timeline.map((e) => e.name)).toEqual(log.map((e) => e.name));
			expect(body.room.headSeq).toBe(log.length);
			expect(Object.values(body.members).sort()).toEqual(['M1', 'M2']);
			const kinds = (kind: string) => body.timeline.filter((e) => e.kind === kind);
			expect(kinds('stage').map((e) => e.label)).toEqual(['Stage 3: “Talk”', 'Stage 4: “Thanks”']);
			const answers = ['group_choice.picked', 'stage.submitted', 'stage.incomplete'];
			expect(kinds('submission').length).toBe(log.filter((e) => answers.includes(e.name)).length);
			expect(kinds('submission').length).toBeGreaterThanOrEqual(2);
			expect(kinds('chat').length).toBe(log.filter((e) => e.name === 'chat.sent').length);
			expect(kinds('chat').length).toBeGreaterThan(0);
			expect(
				kinds('outcome')
					.map((e) => e.label)
					.sort()
			).toEqual(['M1: completed', 'M2: completed', 'Room finished: completed']);
			// Onsets count from the room's formation and never go back.
			const onsets = body.timeline.map((e) => e.onsetMs);
			expect(onsets).toEqual([...onsets].sort((a, b) => a - b));

			const seqOf = (name: string) => log.find((e) => e.name === name)!.seq;
			type Moment = {
				stage: { id: string };
				members: { submittedCurrent: boolean }[];
				finished: unknown;
			};
			const before = await json<{ state: Moment }>(
				`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline?at=0`
			);
			expect(before.state.stage.id).toBe('pick');
			expect(before.state.members.map((m) => m.submittedCurrent)).toEqual([false, false]);
			const onTalk = await json<{ state: Moment }>(
				`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline?at=${seqOf('stage.advanced')}`
			);
			expect(onTalk.state.stage.id).toBe('talk');
			const end = await json<{ state: Moment }>(
				`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline?at=${log.length}`
			);
			expect(end.state.finished).toMatchObject({ outcome: 'completed' });
			expect(
				(await get(`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline?at=x`, rhea)).status
			).toBe(400);
		});

		test('plots of a room run by bots: stage durations, and nothing to draw elsewhere', async () => {
			const base = `/api/studies/${botStudy.id}/rooms/${botRoom}/plots`;
			const durations = await json<StageDurationsPlot>(`${base}/stage-durations`);
			expect(durations.stages.map((s) => [s.stageId, s.count])).toEqual([
				['pick', 1],
				['talk', 1],
				['end', 1]
			]);
			expect(durations.stages[1]!.median!).toBeGreaterThanOrEqual(2);
			expect(durations.stages[1]!.median!).toBeLessThan(10);
			expect((await json<RatingsPlot>(`${base}/ratings`)).stages).toEqual([]);
			expect((await json<SyncPlot>(`${base}/sync`)).x).toEqual([]);
			expect((await json<CoherencePlot>(`${base}/coherence`)).source).toBe('none');
			const unknown = await get(`${base}/everything`, rhea);
			expect(unknown.status).toBe(404);
			expect(await unknown.json()).toMatchObject({ error: 'unknown_plot' });
		});

		test("plots from a participant's real telemetry: ratings, sync, clock and coherence", async () => {
			const base = `/api/studies/${telemetryStudy.id}/rooms/${telemetryRoom}/plots`;
			// The telemetry writer batches: wait until everything sent is stored.
			let ratings: RatingsPlot;
			const deadline = Date.now() + 10_000;
			for (;;) {
				ratings = await json<RatingsPlot>(`${base}/ratings`);
				const sync = await json<SyncPlot>(`${base}/sync`);
				if ((ratings.stages[0]?.samples === 30 && sync.samples === 20) || Date.now() > deadline)
					break;
				await Bun.sleep(150);
			}
			expect(ratings.invalid).toBe(0);
			expect(ratings.stages).toHaveLength(1);
			const film = ratings.stages[0]!;
			expect(film).toMatchObject({ stageId: 'film', title: 'Film', binSeconds: 1, samples: 30 });
			// Ratings every 0.5 s of media from 0 to 14.5 s; bin i holds the values 2i and 2i+1.
			expect(film.x).toEqual(Array.from({ length: 15 }, (_, i) => i));
			expect(film.members).toEqual([
				{ memberId, label: 'M1', values: Array.from({ length: 15 }, (_, i) => 2 * i + 0.5) }
			]);
			expect(film.mean).toEqual(film.members[0]!.values);

			const sync = await json<SyncPlot>(`${base}/sync`);
			expect(sync).toMatchObject({ samples: 20, invalid: 1, binSeconds: 1 });
			expect(sync.x).toHaveLength(20);
			// Sent at the participant's T0 + i s with a 250 ms offset: server time since the room formed.
			expect(sync.errorMs[0]!.values).toEqual(
				Array.from({ length: 20 }, (_, i) => (i % 2 ? -i : i))
			);
			expect(sync.offsetMs[0]!.values.every((v) => v === 250)).toBe(true);
			expect(sync.rttMs[0]!.values).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));

			const coherence = await json<CoherencePlot>(`${base}/coherence`);
			expect(coherence.source).toBe('rr');
			expect(coherence.members.map((m) => m.label)).toEqual(['M1']);
			const scores = coherence.members[0]!.values.filter((v): v is number => v !== null);
			expect(scores.length).toBeGreaterThan(5);
			// Six breaths a minute: a high score once a full window is in.
			expect(Math.min(...scores)).toBeGreaterThan(60);
			expect(coherence.stepSeconds).toBe(5);
		});

		test('no access to the study: 404 everywhere, alike for unknown rooms; no session: 401', async () => {
			const paths = [
				`/api/studies/${botStudy.id}/rooms`,
				`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline`,
				`/api/studies/${botStudy.id}/rooms/${botRoom}/plots/sync`,
				`/api/studies/${botStudy.id}/rooms/${botRoom}/recordings`
			];
			for (const path of paths) {
				expect((await get(path, ben)).status, path).toBe(404);
				expect((await get(path)).status, path).toBe(401);
			}
			// A room of another study, reached through this one's id, is no room of it.
			const crossed = await get(
				`/api/studies/${botStudy.id}/rooms/${telemetryRoom}/timeline`,
				rhea
			);
			const unknown = await get(`/api/studies/${botStudy.id}/rooms/no-such-room/timeline`, rhea);
			expect([crossed.status, unknown.status]).toEqual([404, 404]);
			expect(await crossed.json()).toEqual(await unknown.json());
			expect((await get(`/studies/${botStudy.id}/rooms/${botRoom}`, ben)).status).toBe(404);
			expect((await get(`/studies/${botStudy.id}/rooms`, ben)).status).toBe(404);
			expect((await get(`/studies/${botStudy.id}/plots`, ben)).status).toBe(404);
		});

		test('every replay is audited once (page and API); refusals and plots are not', async () => {
			const before = setup.sql ? await readAudit(botStudy.id) : [];
			const page = await get(`/studies/${botStudy.id}/rooms/${botRoom}`, rhea);
			expect(page.status).toBe(200);
			const html = await page.text();
			expect(html).toContain('Session replay');
			expect(html).toContain('The room at this moment');
			await json(`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline`);
			await get(`/api/studies/${botStudy.id}/rooms/${botRoom}/timeline`, ben);
			await json(`/api/studies/${botStudy.id}/rooms/${botRoom}/plots/sync`);
			if (!setup.sql) return;
			const added = (await readAudit(botStudy.id)).slice(before.length);
			expect(added.map((row) => [row.action, row.user_email, row.detail.via])).toEqual([
				['room.replay', 'rhea@replay.test', 'page'],
				['room.replay', 'rhea@replay.test', 'api']
			]);
			expect(added[0]!.detail).toMatchObject({ roomId: botRoom, events: expect.any(Number) });
		});

		test('the Plots page: the funnel of the bots’ study', async () => {
			const response = await get(`/studies/${botStudy.id}/plots`, rhea);
			expect(response.status).toBe(200);
			const html = await response.text();
			// The table next to the chart: participants, then bots, per step.
			const row = (step: string) => {
				const match = new RegExp(
					`data-step="${step}"[^]*?<td>([^<]*)</td>\\s*<td>([^<]*)</td>`
				).exec(html);
				return match ? [match[1]!.trim(), match[2]!.trim()] : null;
			};
			expect(row('arrived')).toEqual(['0', '2 (100%)']);
			expect(row('consented')).toEqual(['0', '2 (100%)']);
			expect(row('matched')).toEqual(['0', '2 (100%)']);
			expect(row('completed')).toEqual(['0', '2 (100%)']);
			expect(html).toContain('Median time per stage');
		});
	});
}

/**
 * What a participant's page sends: 30 ratings of the video stage (every 0.5 s of media, values
 * 0, 1, 2, …), 20 sync reports a second apart (errors ±i, 250 ms offset, rising RTT) and one
 * that does not validate, and 3 minutes of heart beats breathing six times a minute in batches.
 */
function makeTelemetry(t0: number) {
	const ratings = Array.from({ length: 30 }, (_, i) => ({
		id: `vr-${i}`,
		kind: 'video.rating',
		t: t0 + i * 500,
		value: { stageId: 'film', mediaTime: i * 0.5, serverTime: t0 + i * 500, value: i }
	}));
	const sync = Array.from({ length: 20 }, (_, i) => ({
		id: `sq-${i}`,
		kind: 'sync.quality',
		t: t0 + i * 1_000 - 250,
		value: {
			stageId: 'film',
			errorMs: i % 2 ? -i : i,
			rate: 1,
			offsetMs: 250,
			rttMs: 30 + i,
			uncertaintyMs: 4,
			phase: 'locked',
			seeks: 0
		}
	}));
	sync.push({
		...sync[0]!,
		id: 'sq-bad',
		value: { ...sync[0]!.value, phase: 'buffering' as 'locked' }
	});
	const intervals = synthesizeRrIntervals({
		seconds: 180,
		meanMs: 900,
		rhythms: [{ hz: 0.1, amplitudeMs: 80 }],
		noiseMs: 4,
		seed: 5
	});
	const beats: { id: string; kind: string; t: number; value: number[] }[] = [];
	// The beats ended by now: the device sends them as they come, in batches of 20.
	let end = t0 - intervals.reduce((sum, rr) => sum + rr, 0);
	for (let i = 0; i < intervals.length; i += 20) {
		const batch = intervals.slice(i, i + 20);
		end += batch.reduce((sum, rr) => sum + rr, 0);
		beats.push({ id: `rr-${i}`, kind: 'signal.rr', t: end, value: batch });
	}
	return [ratings, sync, beats];
}
