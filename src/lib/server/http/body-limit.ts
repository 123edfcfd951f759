/**
 * Request body limits for the Bun entry. `Bun.serve` has one `maxRequestBodySize` for every
 * request; it is set to the larger of BODY_SIZE_LIMIT and MEDIA_MAX_SIZE so media uploads can
 * arrive, and this check keeps every other request at BODY_SIZE_LIMIT.
 */

export type BodyLimits = {
	/** BODY_SIZE_LIMIT: forms, JSON, everything but media uploads. */
	defaultBytes: number;
	/** MEDIA_MAX_SIZE: `POST /api/media`, which counts bytes itself while streaming. */
	mediaBytes: number;
};

export type BodyLimitRequest = {
	method: string;
	pathname: string;
	contentLength: string | null;
	transferEncoding: string | null;
};

export type BodyLimitDecision =
	{ ok: true } | { ok: false; status: 411 | 413; error: string; message: string };

/**
 * Headroom above the larger limit, so an upload just over MEDIA_MAX_SIZE meets the route's own
 * count (a JSON 413 that says the limit) rather than Bun's bare 413 or a cut connection.
 */
export const BODY_LIMIT_HEADROOM = 1024 * 1024;

/** The largest body Bun must accept at all: the value for `maxRequestBodySize`. */
export function largestBodySize(limits: BodyLimits): number {
	return Math.max(limits.defaultBytes, limits.mediaBytes) + BODY_LIMIT_HEADROOM;
}

/** Whether a request is a media upload, which may be as large as MEDIA_MAX_SIZE. */
export function isMediaUpload(method: string, pathname: string): boolean {
	return method === 'POST' && pathname === '/api/media';
}

/**
 * Decides whether a request's body may reach the app. Other requests than media uploads must
 * declare a Content-Length within BODY_SIZE_LIMIT; a chunked body without one is refused with
 * 411, because counting it here would mean replacing the request, and Bun ties the client
 * address and socket upgrades to the original request object. Pure.
 */
export function decideBodyLimit(request: BodyLimitRequest, limits: BodyLimits): BodyLimitDecision {
	if (isMediaUpload(request.method, request.pathname)) return { ok: true };
	if (request.contentLength !== null) {
		const declared = Number(request.contentLength);
		if (Number.isFinite(declared) && declared <= limits.defaultBytes) return { ok: true };
		return {
			ok: false,
			status: 413,
			error: 'body_too_large',
			message: `The request body is larger than ${limits.defaultBytes} bytes.`
		};
	}
	if (request.transferEncoding !== null) {
		return {
			ok: false,
			status: 411,
			error: 'length_required',
			message: 'Send a Content-Length header with the request body.'
		};
	}
	return { ok: true };
}

/** Applies `decideBodyLimit` to a request: null to go ahead, else the JSON error to answer. */
export function refuseOversizedBody(request: Request, limits: BodyLimits): Response | null {
	const decision = decideBodyLimit(
		{
			method: request.method,
			pathname: new URL(request.url).pathname,
			contentLength: request.headers.get('content-length'),
			transferEncoding: request.headers.get('transfer-encoding')
		},
		limits
	);
	if (decision.ok) return null;
	return Response.json(
		{ error: decision.error, message: decision.message },
		{ status: decision.status, headers: { 'x-content-type-options': 'nosniff' } }
	);
}
