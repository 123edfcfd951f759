import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import { readJsonBody } from '../../src/lib/server/http/json-body';

const Schema = v.object({ name: v.pipe(v.string(), v.nonEmpty()), count: v.number() });

function post(body: BodyInit, type = 'application/json') {
	return new Request('http://localhost/api', {
		method: 'POST',
		body,
		headers: { 'content-type': type }
	});
}

describe('readJsonBody', () => {
	test('returns the validated body', async () => {
		const result = await readJsonBody(post('{"name":"a","count":2,"extra":true}'), Schema);
		expect(result).toEqual({ ok: true, data: { name: 'a', count: 2 } });
	});

	test('malformed JSON is a 400', async () => {
		const result = await readJsonBody(post('{"name":'), Schema);
		expect(result).toMatchObject({ ok: false, problem: { status: 400, error: 'invalid_json' } });
	});

	test('missing and mistyped fields are listed with their paths', async () => {
		const result = await readJsonBody(post('{"count":"two"}'), Schema);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.problem.status).toBe(400);
		expect(result.problem.issues?.map((issue) => issue.path).sort()).toEqual(['count', 'name']);
	});

	test('another content type is a 415', async () => {
		const result = await readJsonBody(post('name=a', 'application/x-www-form-urlencoded'), Schema);
		expect(result).toMatchObject({ ok: false, problem: { status: 415 } });
	});

	test('an oversized body is a 413, even without a truthful Content-Length', async () => {
		const big = JSON.stringify({ name: 'x'.repeat(2000), count: 1 });
		const declared = await readJsonBody(post(big), Schema, 1000);
		expect(declared).toMatchObject({ ok: false, problem: { status: 413 } });
		const stream = new ReadableStream({
			start(controller) {
				for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(200)));
				controller.close();
			}
		});
		const streamed = await readJsonBody(post(stream), Schema, 1000);
		expect(streamed).toMatchObject({ ok: false, problem: { status: 413 } });
	});

	test('__proto__ keys do not pollute anything', async () => {
		const result = await readJsonBody(
			post('{"name":"a","count":1,"__proto__":{"admin":true}}'),
			Schema
		);
		expect(result.ok).toBe(true);
		expect(({} as Record<string, unknown>).admin).toBeUndefined();
		expect(result.ok && Object.keys(result.data)).toEqual(['name', 'count']);
	});

	test('invalid UTF-8 is malformed JSON', async () => {
		const result = await readJsonBody(post(new Uint8Array([0x7b, 0xff, 0x7d])), Schema);
		expect(result).toMatchObject({ ok: false, problem: { error: 'invalid_json' } });
	});
});
