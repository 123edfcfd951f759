import { formatBytes } from '$lib/media/format';

export type UploadPhase = 'idle' | 'uploading' | 'checking' | 'done' | 'failed';

/**
 * One media upload from the browser: sends the file as the raw body of `POST /api/media` with
 * XMLHttpRequest, because fetch cannot report upload progress, and tracks what to show.
 */
export class MediaUpload {
	#phase = $state<UploadPhase>('idle');
	#loaded = $state(0);
	#total = $state(0);
	#filename = $state('');
	#message = $state('');
	#request: XMLHttpRequest | null = null;

	get phase(): UploadPhase {
		return this.#phase;
	}

	/** Whole percent of the bytes sent. */
	get percent(): number {
		return this.#total > 0 ? Math.floor((this.#loaded / this.#total) * 100) : 0;
	}

	get filename(): string {
		return this.#filename;
	}

	/** Why the upload failed, for people. */
	get message(): string {
		return this.#message;
	}

	get busy(): boolean {
		return this.#phase === 'uploading' || this.#phase === 'checking';
	}

	/** Uploads `file`; resolves true when the server stored it. */
	start(file: File, maxBytes: number): Promise<boolean> {
		this.#filename = file.name;
		this.#loaded = 0;
		this.#total = file.size;
		this.#message = '';
		if (file.size > maxBytes) {
			return Promise.resolve(
				this.#fail(`“${file.name}” is larger than the ${formatBytes(maxBytes)} upload limit.`)
			);
		}
		if (file.size === 0) return Promise.resolve(this.#fail(`“${file.name}” is empty.`));
		this.#phase = 'uploading';
		return new Promise((resolve) => {
			const request = new XMLHttpRequest();
			this.#request = request;
			request.open('POST', '/api/media');
			request.setRequestHeader('X-Filename', encodeURIComponent(file.name));
			request.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
			request.setRequestHeader('Accept', 'application/json');
			request.upload.onprogress = (event) => {
				if (!event.lengthComputable) return;
				this.#loaded = event.loaded;
				this.#total = event.total;
			};
			// Every byte is sent; the server now sniffs and probes the file.
			request.upload.onload = () => {
				this.#loaded = this.#total;
				this.#phase = 'checking';
			};
			request.onload = () => {
				this.#request = null;
				if (request.status === 201) {
					this.#phase = 'done';
					resolve(true);
					return;
				}
				resolve(this.#fail(describeFailure(request)));
			};
			request.onerror = () => {
				this.#request = null;
				resolve(this.#fail('The connection was lost during the upload. Try again.'));
			};
			request.onabort = () => {
				this.#request = null;
				this.#phase = 'idle';
				resolve(false);
			};
			request.send(file);
		});
	}

	/** Stops an upload in progress. */
	cancel(): void {
		this.#request?.abort();
	}

	#fail(message: string): false {
		this.#phase = 'failed';
		this.#message = message;
		return false;
	}
}

function describeFailure(request: XMLHttpRequest): string {
	try {
		const body = JSON.parse(request.responseText) as { message?: unknown };
		if (typeof body.message === 'string' && body.message) return body.message;
	} catch {
		// Not JSON (a proxy's error page): fall through.
	}
	return `The upload failed (HTTP ${request.status}). Try again.`;
}
