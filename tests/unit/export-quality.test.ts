import { describe, expect, test } from 'bun:test';
import { summarizeAvQuality, summarizeParticipantSync } from '../../src/lib/server/export/quality';

const sync = (
	stageId: string,
	errorMs: number,
	phase: string,
	extra: Record<string, number> = {}
) => ({
	stageId,
	errorMs,
	rate: 1,
	offsetMs: 50,
	rttMs: 30,
	uncertaintyMs: 1,
	phase,
	seeks: 0,
	...extra
});

describe('participant quality summaries', () => {
	test('sync quality is pooled over every video stage, steady-state errors only', () => {
		const summary = summarizeParticipantSync([
			sync('one', 10, 'locked'),
			sync('one', -40, 'correcting', { seeks: 2 }),
			sync('two', 5, 'locked', { seeks: 1 }),
			sync('two', 5000, 'seeking'),
			sync('two', 0, 'stalled'),
			{ stageId: 'two', errorMs: 'bad' },
			null
		]);
		expect(summary).toEqual({
			samples: 5,
			errorP50Ms: 10,
			errorP95Ms: 40,
			errorMaxMs: 40,
			stalledSeconds: 1,
			seeks: 2,
			offsetP50Ms: 50,
			rttP50Ms: 30
		});
	});

	test('no sync samples: zero samples and no figures', () => {
		expect(summarizeParticipantSync([])).toMatchObject({
			samples: 0,
			errorP50Ms: null,
			errorP95Ms: null
		});
	});

	test('A/V quality: poor-or-lost share, lost packets, jitter p95, received video bitrate', () => {
		const report = (quality: string, tracks: unknown[]) => ({
			stageId: 's',
			connectionQuality: quality,
			tracks
		});
		const summary = summarizeAvQuality([
			report('excellent', [
				{ kind: 'video', direction: 'receive', bitrateKbps: 900, packetsLost: 1, jitterMs: 4 },
				{ kind: 'audio', direction: 'send', packetsLost: 0, jitterMs: 2 }
			]),
			report('poor', [
				{ kind: 'video', direction: 'receive', bitrateKbps: 300, packetsLost: 10, jitterMs: 50 }
			]),
			report('lost', []),
			report('good', [{ kind: 'video', direction: 'send', bitrateKbps: 1200 }]),
			report('weird', []),
			'garbage'
		]);
		expect(summary).toEqual({
			reports: 4,
			poorShare: 0.5,
			packetsLost: 11,
			jitterP95Ms: 50,
			videoReceiveKbpsP50: 300,
			invalid: 2
		});
		expect(summarizeAvQuality([])).toMatchObject({
			reports: 0,
			poorShare: null,
			jitterP95Ms: null
		});
	});
});
