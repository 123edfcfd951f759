import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import { selectShareableLinkParams } from '../../src/lib/server/participants/link-params';
import { createBlankStudy, parseStudyDefinition, SettingsSchema } from '../../src/lib/study';
import { listSafeLinkParameters, parseLinkParameterList } from '../../src/lib/study/links';

const PARAMS = { src: 'mail', email: 'pat@mail.example', workerId: 'A1B2', PROLIFIC_PID: 'PID' };

describe('selectShareableLinkParams', () => {
	test('every parameter is identifying unless listed as safe', () => {
		expect(selectShareableLinkParams(PARAMS, new Set(), false)).toBeNull();
		expect(selectShareableLinkParams(PARAMS, new Set(['src', 'cohort']), false)).toEqual({
			src: 'mail'
		});
	});

	test("Prolific's ids stay identifying even when listed", () => {
		expect(selectShareableLinkParams(PARAMS, new Set(['PROLIFIC_PID', 'src']), false)).toEqual({
			src: 'mail'
		});
	});

	test('asking for identifying data (with the data permission) shows them all', () => {
		expect(selectShareableLinkParams(PARAMS, new Set(), true)).toEqual(PARAMS);
		expect(selectShareableLinkParams({}, new Set(['src']), true)).toBeNull();
	});
});

describe('safeLinkParameters setting', () => {
	test('old definitions without it still parse, and list none', () => {
		const study = createBlankStudy('Old');
		expect('safeLinkParameters' in study.settings).toBe(false);
		const parsed = parseStudyDefinition(JSON.parse(JSON.stringify(study)));
		expect(parsed.ok).toBe(true);
		if (parsed.ok) {
			expect(listSafeLinkParameters(parsed.definition.settings)).toEqual([]);
			// Parsing adds no key, so the content hash of an old definition does not move.
			expect('safeLinkParameters' in parsed.definition.settings).toBe(false);
		}
	});

	test('names are URL parameter names; the list is bounded', () => {
		const settings = createBlankStudy('New').settings;
		const check = (list: unknown) =>
			v.safeParse(SettingsSchema, { ...settings, safeLinkParameters: list }).success;
		expect(check(['src', 'utm_source', 'a.b[c]'])).toBe(true);
		expect(check(['has space'])).toBe(false);
		expect(check(['nul\u0000'])).toBe(false);
		expect(check([''])).toBe(false);
		expect(check(['x'.repeat(65)])).toBe(false);
		expect(check(Array.from({ length: 51 }, (_, i) => `p${i}`))).toBe(false);
		expect(check('src')).toBe(false);
	});

	test('the designer field takes names separated by commas, spaces or lines, once each', () => {
		expect(parseLinkParameterList(' src, cohort\nsrc  utm_source ,')).toEqual([
			'src',
			'cohort',
			'utm_source'
		]);
		expect(parseLinkParameterList('  ')).toEqual([]);
	});

	test('a stray stored value never widens anything', () => {
		expect(listSafeLinkParameters({ safeLinkParameters: 'email' as never })).toEqual([]);
		expect(listSafeLinkParameters({ safeLinkParameters: ['src', 3] as never })).toEqual(['src']);
	});
});
