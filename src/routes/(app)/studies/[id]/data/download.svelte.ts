/**
 * One export downloading in the browser: fetched (with the session cookie) and read chunk by
 * chunk so the page can show rows and bytes against the expected count, then saved as a file.
 * The browser holds the file while it downloads; the server never does.
 */
import { createRowCounter, percentOf, readFilename, type RowCounter, type RowFormat } from './progress';

export type DownloadPhase = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

export class DataDownload {
	#phase = $state<DownloadPhase>('idle');
	#rows = $state(0);
	#bytes = $state(0);
	#total = $state<number | null>(null);
	#error = $state<string | null>(null);
	#filename = $state<string | null>(null);
	#controller: AbortController | null = null;

	get phase(): DownloadPhase {
		return this.#phase;
	}
	get rows(): number {
		return this.#rows;
	}
	get bytes(): number {
		return this.#bytes;
	}
	/** Rows expected (from the counts), or null when unknown (the zip). */
	get total(): number | null {
		return this.#total;
	}
	get error(): string | null {
		return this.#error;
	}
	get filename(): string | null {
		return this.#filename;
	}
	/** 0–100 by rows, or null when there is no count to go by. */
	get percent(): number | null {
		if (this.#phase === 'done') return 100;
		return percentOf(this.#rows, this.#total);
	}
	get busy(): boolean {
		return this.#phase === 'running';
	}

	/**
	 * Downloads `url`; `format` says how to count rows (null: count bytes only), `total` the rows
	 * expected. Resolves when the file was handed to the browser or the download failed.
	 */
	async start(url: string, format: RowFormat | null, total: number | null): Promise<void> {
		this.#controller?.abort();
		const controller = new AbortController();
		this.#controller = controller;
		this.#phase = 'running';
		this.#rows = 0;
		this.#bytes = 0;
		this.#total = total;
		this.#error = null;
		this.#filename = null;
		try {
			const response = await fetch(url, { signal: controller.signal });
			if (!response.ok || !response.body) {
				this.#fail(await describeFailure(response));
				return;
			}
			const filename = readFilename(response.headers.get('content-disposition')) ?? 'export';
			const type = response.headers.get('content-type') ?? 'application/octet-stream';
			const counter: RowCounter | null = format ? createRowCounter(format) : null;
			const chunks: Uint8Array[] = [];
			const reader = response.body.getReader();
			for (let read = await reader.read(); !read.done; read = await reader.read()) {
				chunks.push(read.value);
				counter?.push(read.value);
				this.#bytes += read.value.byteLength;
				if (counter) this.#rows = counter.rows;
			}
			this.#filename = filename;
			save(new Blob(chunks as BlobPart[], { type }), filename);
			this.#phase = 'done';
		} catch (error) {
			if (controller.signal.aborted) this.#phase = 'cancelled';
			else this.#fail('The download was interrupted. Check your connection and try again.');
			void error;
		} finally {
			if (this.#controller === controller) this.#controller = null;
		}
	}

	/** Stops a running download (the server stops reading too). */
	cancel(): void {
		this.#controller?.abort();
	}

	#fail(message: string): void {
		this.#phase = 'failed';
		this.#error = message;
	}
}

/** The API's message for a refused export, or a generic one. */
async function describeFailure(response: Response): Promise<string> {
	try {
		const body = (await response.json()) as { message?: string; issues?: { path: string; message: string }[] };
		const issues = body.issues?.map((issue) => `${issue.path} ${issue.message}`).join('; ');
		if (body.message) return issues ? `${body.message} (${issues})` : body.message;
	} catch {
		// Not JSON: fall through to the status.
	}
	return `The export failed (HTTP ${response.status}).`;
}

/** Hands a finished file to the browser's downloads. */
function save(blob: Blob, filename: string): void {
	const href = URL.createObjectURL(blob);
	const link = document.createElement('a');
	link.href = href;
	link.download = filename;
	link.style.display = 'none';
	document.body.append(link);
	link.click();
	link.remove();
	// Revoking at once can cancel the save in some browsers; a minute is plenty.
	setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
