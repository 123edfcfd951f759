/**
 * Writes one JSON object as a byte stream, section by section: small values at once, long
 * arrays page by page as the reader pulls, so a participant with hours of telemetry never sits
 * in memory whole. Pure (no database): the caller supplies the pages.
 */

/** One key of the object: a value written at once, or an array whose items arrive in pages. */
export type JsonSection =
	{ key: string; value: unknown } | { key: string; pages: () => AsyncIterable<readonly unknown[]> };

/** The document's text, in pieces, in order; joined they parse as one JSON object. */
export async function* writeJsonObject(sections: readonly JsonSection[]): AsyncGenerator<string> {
	yield '{';
	for (const [index, section] of sections.entries()) {
		const separator = index === 0 ? '\n' : ',\n';
		if ('value' in section) {
			yield `${separator}${JSON.stringify(section.key)}: ${JSON.stringify(section.value ?? null)}`;
			continue;
		}
		yield `${separator}${JSON.stringify(section.key)}: [`;
		let first = true;
		for await (const page of section.pages()) {
			if (page.length === 0) continue;
			const items = page.map((item) => JSON.stringify(item ?? null));
			yield `${first ? '\n' : ',\n'}${items.join(',\n')}`;
			first = false;
		}
		yield first ? ']' : '\n]';
	}
	yield '\n}\n';
}

/**
 * A pull-based byte stream over `pieces`: the next piece is produced only when the reader asks,
 * so a slow download holds back the database reads (backpressure). Cancelling stops the reads.
 */
export function toByteStream(pieces: AsyncGenerator<string>): ReadableStream<Uint8Array> {
	const encoder = new TextEncoder();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const next = await pieces.next();
			if (next.done) controller.close();
			else controller.enqueue(encoder.encode(next.value));
		},
		async cancel() {
			await pieces.return(undefined);
		}
	});
}

/**
 * Reads rows in pages with a keyset: `readPage(after)` returns up to `size` rows after the key
 * (null: from the start); the key of the last row is where the next page starts.
 */
export async function* readKeyset<T, K>(
	readPage: (after: K | null, size: number) => Promise<T[]>,
	keyOf: (row: T) => K,
	size: number
): AsyncGenerator<T[]> {
	let after: K | null = null;
	for (;;) {
		const page = await readPage(after, size);
		if (page.length > 0) yield page;
		if (page.length < size) return;
		after = keyOf(page[page.length - 1]!);
	}
}
