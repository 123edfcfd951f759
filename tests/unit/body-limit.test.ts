import { describe, expect, test } from 'bun:test';
import {
	BODY_LIMIT_HEADROOM,
	decideBodyLimit,
	largestBodySize,
	refuseOversizedBody
} from '../../src/lib/server/http/body-limit';

const LIMITS = { defaultBytes: 1024, mediaBytes: 10 * 1024 * 1024 };

function decide(
	method: string,
	pathname: string,
	contentLength: string | null,
	transferEncoding: string | null = null
) {
	return decideBodyLimit({ method, pathname, contentLength, transferEncoding }, LIMITS);
}

describe('decideBodyLimit', () => {
	test('Bun must accept the larger of the two limits, with headroom for our own count', () => {
		expect(largestBodySize(LIMITS)).toBe(10 * 1024 * 1024 + BODY_LIMIT_HEADROOM);
		expect(largestBodySize({ defaultBytes: 2048, mediaBytes: 100 })).toBe(
			2048 + BODY_LIMIT_HEADROOM
		);
	});

	test('media uploads pass at any declared size (the route counts them against MEDIA_MAX_SIZE)', () => {
		expect(decide('POST', '/api/media', String(5 * 1024 * 1024))).toEqual({ ok: true });
		expect(decide('POST', '/api/media', null, 'chunked')).toEqual({ ok: true });
	});

	test('other requests keep BODY_SIZE_LIMIT', () => {
		expect(decide('POST', '/api/invites', '1024')).toEqual({ ok: true });
		expect(decide('POST', '/api/invites', '1025')).toMatchObject({ ok: false, status: 413 });
		// Only POST /api/media is an upload: not its sub-paths, not other methods.
		expect(decide('PUT', '/api/media', '2048')).toMatchObject({ ok: false, status: 413 });
		expect(decide('POST', '/api/media/abc', '2048')).toMatchObject({ ok: false, status: 413 });
		expect(decide('POST', '/api/media/', '2048')).toMatchObject({ ok: false, status: 413 });
	});

	test('a nonsense Content-Length is refused', () => {
		expect(decide('POST', '/login', 'lots')).toMatchObject({ ok: false, status: 413 });
	});

	test('a body without Content-Length must declare one, except for uploads', () => {
		expect(decide('POST', '/login', null, 'chunked')).toMatchObject({ ok: false, status: 411 });
	});

	test('requests without a body pass', () => {
		expect(decide('GET', '/studies', null)).toEqual({ ok: true });
		expect(decide('POST', '/logout', '0')).toEqual({ ok: true });
	});
});

/** A request as Bun.serve hands it over: with the Content-Length the client sent. */
function post(path: string, body: string) {
	return new Request(`http://localhost${path}`, {
		method: 'POST',
		body,
		headers: { 'content-length': String(body.length) }
	});
}

describe('refuseOversizedBody', () => {
	test('answers a JSON problem for an oversized request and nothing otherwise', async () => {
		const big = post('/api/invites', 'x'.repeat(2000));
		const refused = refuseOversizedBody(big, LIMITS);
		expect(refused?.status).toBe(413);
		expect(await refused?.json()).toMatchObject({ error: 'body_too_large' });

		expect(refuseOversizedBody(post('/api/invites', '{}'), LIMITS)).toBeNull();
		expect(refuseOversizedBody(post('/api/media', 'x'.repeat(2000)), LIMITS)).toBeNull();
	});
});
