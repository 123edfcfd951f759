import { Zip, ZipDeflate } from 'fflate';

/**
 * A zip archive written one entry after another with fflate's streaming `Zip`. Compressed
 * output collects as it is produced and the caller takes it with `take()` after each write, so
 * a ReadableStream can hand it on with backpressure: nothing but the current entry's deflate
 * window is ever held.
 *
 * Entries are strictly sequential: fflate buffers a later entry's output until the earlier ones
 * end, so opening two at once would hold the second in memory. `open` refuses that.
 */
export class ZipWriter {
	readonly #zip: Zip;
	readonly #mtime: Date;
	readonly #encoder = new TextEncoder();
	#pending: Uint8Array[] = [];
	#pendingBytes = 0;
	#error: Error | null = null;
	#entry: ZipDeflate | null = null;
	#finished = false;

	constructor(mtime: Date = new Date()) {
		this.#mtime = mtime;
		this.#zip = new Zip((error, chunk) => {
			if (error) {
				this.#error = error;
				return;
			}
			if (chunk.length === 0) return;
			this.#pending.push(chunk);
			this.#pendingBytes += chunk.length;
		});
	}

	/** Starts the entry `path` (forward slashes, no leading slash). */
	open(path: string): void {
		if (this.#entry) throw new Error(`Zip entry still open when opening ${path}.`);
		if (this.#finished) throw new Error('The zip is already finished.');
		const entry = new ZipDeflate(path, { level: 6 });
		entry.mtime = this.#mtime;
		this.#zip.add(entry);
		this.#entry = entry;
		this.#check();
	}

	/** Appends text (UTF-8) or bytes to the open entry. */
	write(data: string | Uint8Array): void {
		if (!this.#entry) throw new Error('No zip entry is open.');
		const bytes = typeof data === 'string' ? this.#encoder.encode(data) : data;
		if (bytes.length > 0) this.#entry.push(bytes, false);
		this.#check();
	}

	/** Ends the open entry. */
	close(): void {
		if (!this.#entry) throw new Error('No zip entry is open.');
		this.#entry.push(new Uint8Array(0), true);
		this.#entry = null;
		this.#check();
	}

	/** Writes a whole small entry (a JSON or README file). */
	add(path: string, data: string | Uint8Array): void {
		this.open(path);
		this.write(data);
		this.close();
	}

	/** Writes the central directory; nothing can be added after. */
	finish(): void {
		if (this.#entry) throw new Error('Zip entry still open at the end.');
		this.#finished = true;
		this.#zip.end();
		this.#check();
	}

	/** Bytes produced and not taken yet. */
	get pendingBytes(): number {
		return this.#pendingBytes;
	}

	/** The output produced since the last call, as one chunk (null when there is none). */
	take(): Uint8Array | null {
		if (this.#pending.length === 0) return null;
		const chunks = this.#pending;
		const total = this.#pendingBytes;
		this.#pending = [];
		this.#pendingBytes = 0;
		if (chunks.length === 1) return chunks[0]!;
		const joined = new Uint8Array(total);
		let offset = 0;
		for (const chunk of chunks) {
			joined.set(chunk, offset);
			offset += chunk.length;
		}
		return joined;
	}

	#check(): void {
		if (this.#error) throw this.#error;
	}
}
