import { describe, expect, test } from 'bun:test';
import {
	completionUrlFor,
	prolificCompletionUrl,
	prolificStudyLink,
	studyLink
} from '../../src/lib/study';

describe('studyLink', () => {
	test('joins the origin and the slug', () => {
		expect(studyLink('https://lab.example.org', 'trust-game')).toBe(
			'https://lab.example.org/s/trust-game'
		);
	});

	test('does not double a trailing slash on the origin', () => {
		expect(studyLink('http://localhost:3000/', 'pilot')).toBe('http://localhost:3000/s/pilot');
	});
});

describe('prolificStudyLink', () => {
	const PLACEHOLDERS =
		'PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}';

	test('adds the three placeholders with their braces unencoded', () => {
		expect(prolificStudyLink('https://lab.example.org/s/pilot')).toBe(
			`https://lab.example.org/s/pilot?${PLACEHOLDERS}`
		);
	});

	test('appends to a query the link already has', () => {
		expect(prolificStudyLink('https://lab.example.org/s/pilot?lang=de')).toBe(
			`https://lab.example.org/s/pilot?lang=de&${PLACEHOLDERS}`
		);
	});
});

describe('prolificCompletionUrl', () => {
	test('puts the code in cc', () => {
		expect(prolificCompletionUrl('C1A2B3')).toBe(
			'https://app.prolific.com/submissions/complete?cc=C1A2B3'
		);
	});

	test('keeps the query intact whatever the code holds', () => {
		const url = new URL(prolificCompletionUrl(' AB&x=1 '));
		expect(url.searchParams.get('cc')).toBe('AB&x=1');
		expect([...url.searchParams.keys()]).toEqual(['cc']);
	});
});

describe('completionUrlFor', () => {
	test('an explicit redirect wins', () => {
		expect(
			completionUrlFor({ completionCode: 'C1A2B3', redirectUrl: 'https://survey.example/done' })
		).toBe('https://survey.example/done');
	});

	test('a completion code alone goes to Prolific', () => {
		expect(completionUrlFor({ completionCode: 'C1A2B3', redirectUrl: '' })).toBe(
			'https://app.prolific.com/submissions/complete?cc=C1A2B3'
		);
	});

	test('neither: the participant stays on the thank-you page', () => {
		expect(completionUrlFor({ completionCode: '', redirectUrl: '' })).toBeNull();
		expect(completionUrlFor({ completionCode: '  ', redirectUrl: ' ' })).toBeNull();
	});
});
