/**
 * svelte-adapter-bun rebuilds every request as `new Request(url, request)`. With a Request as
 * the second argument Bun reads the whole body into memory first (a 1 GiB upload costs 1 GiB of
 * RAM; measured with `bun run bench:media`). Given a plain RequestInit, Bun keeps the body a
 * stream. So for media uploads the entry hands the adapter this Request-shaped init instead.
 *
 * Only the fields the adapter and SvelteKit read are carried. Bun's `server.requestIP()` and
 * `server.timeout()` need the original request, so the entry calls them itself and nothing on
 * the upload path asks for the client address.
 */
export function toStreamingRequestInit(request: Request): RequestInit & { url: string } {
	return {
		url: request.url,
		method: request.method,
		headers: request.headers,
		body: request.body,
		signal: request.signal,
		// Required by the fetch standard for a streaming request body.
		duplex: 'half'
	} as RequestInit & { url: string };
}
