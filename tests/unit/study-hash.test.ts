import { describe, expect, test } from 'bun:test';
import {
	STUDY_TEMPLATES,
	canonicalJson,
	hashStudyDefinition,
	type StudyDefinition
} from '../../src/lib/study';

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(reverseKeys);
	if (value === null || typeof value !== 'object') return value;
	return Object.fromEntries(
		Object.entries(value)
			.reverse()
			.map(([key, item]) => [key, reverseKeys(item)])
	);
}

/** A small definition written out in full, so nothing outside this file can change it. */
const FIXED: StudyDefinition = {
	schemaVersion: 1,
	settings: {
		title: 'Pinned',
		description: '',
		participantTitle: '',
		language: 'en',
		texts: { waitingRoom: '', studyClosed: '', studyPaused: '', studyFull: '' },
		session: { mode: 'matched', groupSize: 2, minGroupSize: 2, lobbyTimeoutSeconds: 300 },
		roles: [{ id: 'participant', name: 'Participant', minCount: 1, maxCount: null }],
		conditions: { assignment: 'balanced', list: [{ id: 'control', name: 'Control' }] },
		outcomes: {
			completed: { completionCode: 'C0DE', redirectUrl: '' },
			no_consent: { completionCode: '', redirectUrl: '' },
			lobby_timeout: { completionCode: '', redirectUrl: '' },
			dropout: { completionCode: '', redirectUrl: '' },
			technical_error: { completionCode: '', redirectUrl: '' },
			screened_out: { completionCode: '', redirectUrl: '' }
		},
		prolific: false
	},
	stages: [
		{
			type: 'instructions',
			id: 'welcome',
			title: 'Welcome',
			durationSeconds: null,
			advance: 'all_submitted',
			dropout: { policy: 'pause', countdownSeconds: 60, then: 'continue' },
			content: { markdown: 'Hello, **world**. Ünïcode too: 你好', continueLabel: 'Continue' },
			variants: []
		},
		{
			type: 'end',
			id: 'end',
			title: 'End',
			durationSeconds: null,
			advance: 'all_submitted',
			dropout: { policy: 'end' },
			content: { markdown: 'Thank you.', outcome: 'completed' },
			variants: []
		}
	]
};

describe('hashStudyDefinition', () => {
	test('is pinned for a fixed definition', () => {
		// Stored study versions are identified by this hash. If this test fails, the algorithm
		// (canonical JSON or SHA-256) drifted and every stored version would look changed: fix the
		// algorithm, do not update the value. (Computed once; `sha256sum` of the canonical JSON agrees.)
		expect(hashStudyDefinition(FIXED)).toBe(
			'31cb8ca94694483cec864f2e2f170f8e169a2941ba93d39eadc2058e7e2fbb93'
		);
	});

	test('ignores the order of keys', () => {
		const reordered = reverseKeys(FIXED);
		expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(FIXED));
		expect(hashStudyDefinition(reordered)).toBe(hashStudyDefinition(FIXED));
	});

	test.each(STUDY_TEMPLATES.map((template) => [template.id, template] as const))(
		'survives a JSON round trip (%s)',
		(_id, template) => {
			const definition = template.create({ demoMediaId: 'media_demo' });
			expect(hashStudyDefinition(JSON.parse(JSON.stringify(definition)))).toBe(
				hashStudyDefinition(definition)
			);
		}
	);

	test('changes with the title', () => {
		const renamed = structuredClone(FIXED);
		renamed.settings.title = 'Pinned!';
		expect(hashStudyDefinition(renamed)).not.toBe(hashStudyDefinition(FIXED));
	});

	test('changes with the order of stages', () => {
		const swapped = structuredClone(FIXED);
		swapped.stages.reverse();
		expect(hashStudyDefinition(swapped)).not.toBe(hashStudyDefinition(FIXED));
	});

	test('changes with a value deep inside a stage', () => {
		const edited = structuredClone(FIXED);
		edited.stages[0]!.dropout = { policy: 'pause', countdownSeconds: 61, then: 'continue' };
		expect(hashStudyDefinition(edited)).not.toBe(hashStudyDefinition(FIXED));
	});

	test('tells null from a missing key, and a number from its string', () => {
		const nulled = structuredClone(FIXED);
		nulled.settings.roles[0]!.maxCount = 2;
		expect(hashStudyDefinition(nulled)).not.toBe(hashStudyDefinition(FIXED));
		expect(hashStudyDefinition({ a: 1 })).not.toBe(hashStudyDefinition({ a: '1' }));
		expect(hashStudyDefinition({ a: null })).not.toBe(hashStudyDefinition({}));
	});

	test('drops undefined keys, as JSON does', () => {
		expect(hashStudyDefinition({ a: 1, b: undefined })).toBe(hashStudyDefinition({ a: 1 }));
	});
});

describe('canonicalJson', () => {
	test('sorts keys at every level and keeps array order', () => {
		expect(canonicalJson({ b: [{ d: 1, c: 2 }, 3], a: 'x' })).toBe(
			'{"a":"x","b":[{"c":2,"d":1},3]}'
		);
	});
});
