/**
 * Group formation across replicas. Three replicas share Postgres and Redis (scripts/cluster.ts);
 * 200 participants of a 4-person study arrive over a few seconds, each on a replica of its own
 * (round robin, straight to the replica, as a balancer without stickiness would spread them),
 * go through consent and the ready check into the waiting room, and every replica forms groups
 * (right after each join and in its runner). Postgres must then hold exactly 50 rooms of 4,
 * with nobody in two rooms and every role filled.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import { findHaproxy, startCluster, type Cluster } from '../../scripts/cluster';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { createPostgresDatabase } from '../support/databases';
import {
	actOnStep,
	joinStudy,
	readStep,
	respondToStage,
	type JourneyServer
} from '../support/journey';
import { isCI, requireService } from '../support/services';

setDefaultTimeout(120_000);

const PARTICIPANTS = 200;
const GROUP_SIZE = 4;
/** Arrivals are spread over a few seconds: this many participants start at once. */
const CONCURRENT_ARRIVALS = 16;
const ADMIN = {
	name: 'Formation Admin',
	email: 'admin@formation.test',
	password: 'many rooms at once 7'
};

const database = requireService('TEST_DATABASE_URL', 'cluster group formation');
const redis = requireService('TEST_REDIS_URL', 'cluster group formation');
const haproxy = findHaproxy();
if (!haproxy) {
	if (isCI) throw new Error('haproxy is not installed, but CI=true: the cluster suite must run.');
	console.warn('\n!!! SKIPPED: cluster group formation — install haproxy.\n');
}
const available = database.available && redis.available && haproxy !== undefined;

/** Consent (alone, before the waiting room), then a group choice in the room, then the end. */
function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Formation at scale');
	study.settings.session = {
		mode: 'matched',
		groupSize: GROUP_SIZE,
		minGroupSize: GROUP_SIZE,
		lobbyTimeoutSeconds: 600
	};
	study.settings.roles = [
		{ id: 'leader', name: 'Leader', minCount: 1, maxCount: 1 },
		{ id: 'member', name: 'Member', minCount: 1, maxCount: null }
	];
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'Agree to take part?';
	const choice = createStage('group_choice', ['consent']);
	if (choice.type === 'group_choice') choice.content.prompt = 'Pick one';
	study.stages = [consent, choice, createStage('end', ['consent', 'group_choice'])];
	return study;
}

describe.skipIf(!available)('group formation on three replicas', () => {
	let cluster: Cluster;
	let sql: postgres.Sql;
	let dropDatabase: () => Promise<void>;

	beforeAll(async () => {
		const db = await createPostgresDatabase(database.available ? database.url : '');
		dropDatabase = db.drop;
		sql = postgres(db.url, { max: 2, onnotice: () => {} });
		cluster = await startCluster({
			databaseUrl: db.url,
			redisUrl: redis.available ? redis.url : '',
			env: { LOG_LEVEL: 'warn' }
		});
	});
	afterAll(async () => {
		await cluster?.stop();
		await sql?.end();
		await dropDatabase?.();
	});

	test(`${PARTICIPANTS} arrivals spread over 3 replicas form exactly ${PARTICIPANTS / GROUP_SIZE} groups of ${GROUP_SIZE}`, async () => {
		const replicas: JourneyServer[] = cluster.replicas.map((replica) => ({
			base: replica.url,
			origin: cluster.origin
		}));
		const first = replicas[0]!;

		// The researcher publishes the study through the first replica.
		const setup = await fetch(`${first.base}/setup`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: first.origin,
				'content-type': 'application/x-www-form-urlencoded',
				accept: 'text/html'
			},
			body: new URLSearchParams({ ...ADMIN, confirm: ADMIN.password })
		});
		const admin = setup.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
		expect(setup.status, 'first-run setup').toBe(303);
		const cookie = admin!.split(';')[0]!;
		const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
			const response = await fetch(`${first.base}${path}`, {
				method,
				headers: { origin: first.origin, cookie, 'content-type': 'application/json' },
				body: body === undefined ? undefined : JSON.stringify(body)
			});
			if (!response.ok) throw new Error(`${method} ${path}: ${await response.text()}`);
			return (await response.json()) as T;
		};
		const { id } = await api<{ id: string }>('POST', '/api/studies', { title: 'Formation' });
		const detail = await api<{ revision: number; slug: string }>('GET', `/api/studies/${id}`);
		await api('PUT', `/api/studies/${id}`, { definition: makeStudy(), revision: detail.revision });
		await api('POST', `/api/studies/${id}/publish`);
		const slug = detail.slug;

		// Participants arrive, each through its own replica, a few at a time.
		const started = performance.now();
		const cookies: string[] = [];
		const arrive = async (index: number) => {
			const replica = replicas[index % replicas.length]!;
			const participant = await joinStudy(replica, slug);
			cookies[index] = participant;
			const consent = await respondToStage(replica, slug, participant, 'consent', {
				type: 'consent',
				agreed: true
			});
			expect(consent.type).toBe('success');
			expect((await actOnStep(replica, slug, participant, 'ready')).type).toBe('success');
		};
		for (let next = 0; next < PARTICIPANTS; next += CONCURRENT_ARRIVALS) {
			const batch = Array.from(
				{ length: Math.min(CONCURRENT_ARRIVALS, PARTICIPANTS - next) },
				(_, offset) => arrive(next + offset)
			);
			await Promise.all(batch);
		}
		const arrivalSeconds = (performance.now() - started) / 1000;

		// Everyone ends up in a room; the runners pick up anyone a join-time pass left waiting.
		const deadline = Date.now() + 30_000;
		let placed = 0;
		while (Date.now() < deadline) {
			const [row] = await sql<{ n: number }[]>`
				select count(*)::int as n from participants where study_id = ${id} and status = 'in_room'`;
			placed = row!.n;
			if (placed === PARTICIPANTS) break;
			await Bun.sleep(250);
		}
		console.log(
			`[figure] ${PARTICIPANTS} arrivals over ${arrivalSeconds.toFixed(1)} s on 3 replicas; all placed after ${((performance.now() - started) / 1000).toFixed(1)} s`
		);
		expect(placed).toBe(PARTICIPANTS);

		const rooms = await sql<{ room_id: string; members: number; leaders: number }[]>`
			select m.room_id, count(*)::int as members,
				count(*) filter (where m.role = 'leader')::int as leaders
			from room_members m join participants p on p.id = m.participant_id
			where p.study_id = ${id} group by m.room_id`;
		expect(rooms).toHaveLength(PARTICIPANTS / GROUP_SIZE);
		expect(rooms.every((room) => room.members === GROUP_SIZE && room.leaders === 1)).toBe(true);
		const [twice] = await sql<{ n: number }[]>`
			select count(*)::int as n from (
				select participant_id from room_members m join participants p on p.id = m.participant_id
				where p.study_id = ${id} group by participant_id having count(*) > 1) doubles`;
		expect(twice!.n).toBe(0);

		// What a participant's page says agrees with the database.
		const step = await readStep(replicas[1]!, slug, cookies[1]!);
		expect(step?.kind).toBe('in_room');
	});
});
