/**
 * No room waits forever, on three replicas behind HAProxy (issue 14, item 6). Real participants
 * come through the study link and hold real room sockets through the front; then
 *   - every member of a room closes the tab during a stage with "pause and wait 60 s, then end":
 *     the room ends with outcomes within 60 + 5 s;
 *   - the same, while the replica holding the room is killed (`kill -9`) and nobody comes back;
 *   - one member of four closes the tab while their replica is killed, the other three come back
 *     through the balancer: the dropout policy runs for that one exactly as without a kill.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import { findHaproxy, startCluster, type Cluster } from '../../scripts/cluster';
import { createBlankStudy, createStage, type DropoutPolicy } from '../../src/lib/study';
import { createPostgresDatabase } from '../support/databases';
import type { JourneyServer } from '../support/journey';
import {
	formGroup,
	lastSeqSeen,
	openRoomSocket,
	readOutcomes,
	waitForOutcomes,
	type RoomParticipant
} from '../support/room-participants';
import { isCI, requireService } from '../support/services';
import { createAdminApi, publishStudy, type AdminApi } from '../support/study-server';

// Two 60 s countdowns run side by side, then a kill with three reconnects: about two minutes.
setDefaultTimeout(240_000);

const COUNTDOWN_S = 60;
/** The bound: the countdown, plus five seconds. */
const BOUND_MS = COUNTDOWN_S * 1000 + 5_000;

const database = requireService('TEST_DATABASE_URL', 'cluster abandoned rooms');
const redis = requireService('TEST_REDIS_URL', 'cluster abandoned rooms');
const haproxy = findHaproxy();
if (!haproxy) {
	if (isCI) throw new Error('haproxy is not installed, but CI=true: the cluster suite must run.');
	console.warn('\n!!! SKIPPED: cluster abandoned rooms — install haproxy.\n');
}
const available = database.available && redis.available && haproxy !== undefined;

function studyWith(groupSize: number, dropout: DropoutPolicy) {
	const definition = createBlankStudy('Abandoned rooms');
	definition.settings.session = {
		mode: 'matched',
		groupSize,
		minGroupSize: groupSize,
		lobbyTimeoutSeconds: 300
	};
	const talk = createStage('chat', []);
	const end = createStage('end', []);
	definition.stages = [
		{ ...talk, id: 'talk', advance: 'experimenter', durationSeconds: null, dropout } as typeof talk,
		{ ...end, id: 'end' }
	];
	return definition;
}

describe.skipIf(!available)('no room waits forever on three replicas', () => {
	let cluster: Cluster;
	let sql: postgres.Sql;
	let dropDatabase: (() => Promise<void>) | undefined;
	let api: AdminApi;
	let front: JourneyServer;

	beforeAll(async () => {
		const created = await createPostgresDatabase(database.available ? database.url : '');
		dropDatabase = created.drop;
		sql = postgres(created.url, { max: 2, onnotice: () => {} });
		cluster = await startCluster({
			databaseUrl: created.url,
			redisUrl: redis.available ? redis.url : ''
		});
		front = { base: cluster.frontUrl, origin: cluster.origin };
		const setup = await fetch(`${cluster.frontUrl}/setup`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				'content-type': 'application/x-www-form-urlencoded',
				accept: 'text/html',
				origin: cluster.origin
			},
			body: new URLSearchParams({
				name: 'Admin',
				email: 'admin@abandoned.test',
				password: 'quiet harbour lamp 42',
				confirm: 'quiet harbour lamp 42'
			})
		});
		expect(setup.status).toBe(303);
		const cookie = setup.headers
			.getSetCookie()
			.find((c) => c.startsWith('ensemble_session='))!
			.split(';')[0]!;
		api = createAdminApi({ url: cluster.frontUrl, origin: cluster.origin } as never, cookie);
	});

	afterAll(async () => {
		await cluster?.stop();
		await sql?.end();
		await dropDatabase?.();
	});

	const hostOf = async (roomId: string) => {
		for (let i = 0; i < 100; i++) {
			const [row] = await sql<{ host: string | null }[]>`
				select host_replica as host from rooms where id = ${roomId}`;
			if (row?.host) return row.host;
			await Bun.sleep(100);
		}
		throw new Error(`room ${roomId} has no host`);
	};
	const closeAll = (members: RoomParticipant[]) => {
		for (const member of members) member.socket!.close(1000, 'tab closed');
	};

	test('every member leaves: the room ends within 60 + 5 s, with or without its replica killed', async () => {
		const { id: studyId, slug } = await publishStudy(
			api,
			studyWith(2, { policy: 'pause', countdownSeconds: COUNTDOWN_S, then: 'end' }),
			'Everyone leaves'
		);
		// Two rooms on different replicas: one is left alone, the other loses its replica.
		const calm = await formGroup(front, slug, 2);
		const calmHost = await hostOf(calm[0]!.roomId);
		let doomed = await formGroup(front, slug, 2);
		for (let tries = 0; (await hostOf(doomed[0]!.roomId)) === calmHost; tries++) {
			if (tries > 8) throw new Error('every room landed on one replica');
			closeAll(doomed);
			doomed = await formGroup(front, slug, 2);
		}
		const doomedHost = await hostOf(doomed[0]!.roomId);
		const victim = cluster.replicas.find((replica) => replica.id === doomedHost)!;

		const leftAt = Date.now();
		closeAll(calm);
		closeAll(doomed);
		await victim.kill('SIGKILL');

		const [calmEnd, doomedEnd] = await Promise.all([
			waitForOutcomes(
				api,
				studyId,
				calm.map((m) => m.participantId),
				BOUND_MS + 20_000
			),
			waitForOutcomes(
				api,
				studyId,
				doomed.map((m) => m.participantId),
				BOUND_MS + 20_000
			)
		]);
		const calmMs = calmEnd.at - leftAt;
		const doomedMs = doomedEnd.at - leftAt;
		console.log(
			`abandoned rooms: all left → outcomes after ${calmMs} ms; all left + replica killed → ${doomedMs} ms`
		);
		for (const member of [...calm, ...doomed]) {
			expect(
				doomedEnd.outcomes[member.participantId] ?? calmEnd.outcomes[member.participantId]
			).toBe('dropout');
		}
		expect(calmMs).toBeLessThan(BOUND_MS);
		expect(doomedMs).toBeLessThan(BOUND_MS);
		await victim.restart();
		await cluster.waitHealthy();
	});

	test('one of four leaves while their replica dies: the dropout policy runs as without a kill', async () => {
		const { id: studyId, slug } = await publishStudy(
			api,
			studyWith(4, { policy: 'continue', minMembers: 2 }),
			'One leaves'
		);
		const members = await formGroup(front, slug, 4);
		const host = await hostOf(members[0]!.roomId);
		const replica = cluster.replicas.find((r) => r.id === host)!;
		const [leaver, ...stayers] = members;
		const leftAt = Date.now();
		leaver!.socket!.close(1000, 'tab closed');
		await replica.kill('SIGKILL');
		// The others' pages reconnect through the balancer and resume where they were.
		for (const member of stayers) {
			let joined = false;
			for (let attempt = 0; attempt < 40 && !joined; attempt++) {
				try {
					await openRoomSocket(front, slug, member, lastSeqSeen(member));
					joined = true;
				} catch {
					await Bun.sleep(250);
				}
			}
			expect(joined).toBe(true);
		}
		const { at, outcomes } = await waitForOutcomes(api, studyId, [leaver!.participantId], 40_000);
		console.log(
			`abandoned rooms: one of four left during a kill → dropout after ${at - leftAt} ms`
		);
		expect(outcomes[leaver!.participantId]).toBe('dropout');
		// Presence grace (10 s) + noticing the dead host and reconciling (a few seconds).
		expect(at - leftAt).toBeLessThan(25_000);
		await Bun.sleep(1_000);
		const after = await readOutcomes(api, studyId);
		for (const member of stayers) expect(after[member.participantId]).toBeNull();
		for (const member of stayers) member.socket!.close(1000, 'done');
		await replica.restart();
	});
});
