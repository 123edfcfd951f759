import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import {
	describeUnstorableFinding,
	findUnstorableInJson,
	findUnstorableText,
	StorableJson,
	storableJson,
	StorableString
} from '../../src/lib/protocol/text';

describe('the storable-text rule', () => {
	test('refuses U+0000 and unpaired surrogates, accepts everything else', () => {
		expect(findUnstorableText('a\u0000b')).toBe('nul');
		expect(findUnstorableText('a\ud800b')).toBe('lone_surrogate');
		expect(findUnstorableText('\udfff')).toBe('lone_surrogate');
		expect(findUnstorableText('emoji 😀, tab\t, bell \u0007, \uffff')).toBeNull();
		expect(findUnstorableText('')).toBeNull();
	});

	test('the schema explains what is wrong', () => {
		const result = v.safeParse(StorableString, 'x\u0000');
		expect(result.success).toBe(false);
		expect(result.issues?.[0]?.message).toContain('U+0000');
	});

	test('finds bad text in nested values and in object keys, with a path', () => {
		expect(findUnstorableInJson({ a: [1, 'ok', { b: 'x\u0000' }] })).toEqual({
			path: 'a.2.b',
			problem: 'nul'
		});
		const key = findUnstorableInJson({ answers: { ['q\ud800']: 1 } });
		expect(key).toEqual({ path: 'answers.(key)', problem: 'lone_surrogate' });
		expect(findUnstorableInJson({ a: [1, 'fine', null, true] })).toBeNull();
		expect(describeUnstorableFinding({ path: 'payload.text', problem: 'nul' })).toBe(
			'Text may not contain the NUL character (U+0000) (at payload.text).'
		);
	});
});

describe('the leading byte order mark', () => {
	test('is refused at the start only: PGlite reads text back without it', () => {
		expect(findUnstorableText('\ufeffhello')).toBe('leading_bom');
		expect(findUnstorableText('hel\ufefflo')).toBeNull();
		expect(describeUnstorableFinding({ path: 'name', problem: 'leading_bom' })).toBe(
			'Text may not start with a byte order mark (U+FEFF) (at name).'
		);
	});
});

describe('storableJson', () => {
	test('points the issue at the offending string inside the value', () => {
		const Body = v.object({ payload: v.pipe(v.unknown(), storableJson()) });
		const result = v.safeParse(Body, { payload: { answers: { q1: 'a\u0000' } } });
		expect(result.success).toBe(false);
		const issue = result.issues![0]!;
		expect(issue.path?.map((item) => item.key).join('.')).toBe('payload.answers.q1');
		expect(issue.message).toBe('Text may not contain the NUL character (U+0000).');
		expect(v.is(StorableJson, { fine: ['é', 1, null] })).toBe(true);
	});
});
