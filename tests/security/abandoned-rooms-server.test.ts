import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createBlankStudy, createStage } from '../../src/lib/study';
import { signUpFirstAdmin } from '../support/app';
import type { JourneyServer } from '../support/journey';
import { formGroup, readOutcomes, waitForOutcomes } from '../support/room-participants';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';
import { createAdminApi, publishStudy } from '../support/study-server';

/**
 * No room waits forever, on the embedded default (one server, PGlite): every member of a room
 * closes the tab during a stage with "pause and wait 60 s, then end", and the server is
 * restarted while they are gone, so the room is loaded nowhere when its countdown runs out. The
 * restarted server's sweeper finds it, and the room ends with outcomes within 60 + 5 s.
 */
setDefaultTimeout(150_000);

const COUNTDOWN_S = 60;
const BOUND_MS = COUNTDOWN_S * 1000 + 5_000;

describe('no room waits forever on the embedded default', () => {
	const data = temporaryDataDir();
	let server: RunningServer;

	beforeAll(async () => {
		server = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn' });
	});
	afterAll(async () => {
		await server?.stop();
		data.remove();
	});

	test('every member closes the tab, the server restarts: the room ends within 60 + 5 s', async () => {
		const admin = await signUpFirstAdmin(server);
		const definition = createBlankStudy('Everyone leaves');
		definition.settings.session = {
			mode: 'matched',
			groupSize: 2,
			minGroupSize: 2,
			lobbyTimeoutSeconds: 300
		};
		const talk = createStage('chat', []);
		definition.stages = [
			{
				...talk,
				id: 'talk',
				advance: 'experimenter',
				durationSeconds: null,
				dropout: { policy: 'pause', countdownSeconds: COUNTDOWN_S, then: 'end' }
			} as typeof talk,
			{ ...createStage('end', []), id: 'end' }
		];
		const { id: studyId, slug } = await publishStudy(
			createAdminApi(server, admin),
			definition,
			'Everyone leaves'
		);
		const front: JourneyServer = { base: server.url, origin: server.origin };
		const members = await formGroup(front, slug, 2);

		const leftAt = Date.now();
		for (const member of members) member.socket!.close(1000, 'tab closed');
		// Let the server log both departures, then restart it on the same data directory.
		await Bun.sleep(1_000);
		await server.stop();
		server = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn' });
		const api = createAdminApi(server, admin);
		expect(Object.values(await readOutcomes(api, studyId))).toEqual([null, null]);

		const ids = members.map((member) => member.participantId);
		const { at, outcomes } = await waitForOutcomes(api, studyId, ids, BOUND_MS + 20_000);
		console.log(`abandoned room on PGlite (restart in between): outcomes after ${at - leftAt} ms`);
		expect(ids.map((id) => outcomes[id])).toEqual(['dropout', 'dropout']);
		expect(at - leftAt).toBeLessThan(BOUND_MS);
	});
});
