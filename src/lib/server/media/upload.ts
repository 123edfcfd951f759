import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatBytes } from '../../media/format';
import { describeUnstorableText, findUnstorableText } from '../../protocol/text';
import { generateSecureRandomString } from '../auth/tokens';
import type { Database } from '../db';
import { mediaItems, type MediaItem, type MediaKind } from '../db/schema/media';
import { probeMedia, type MediaProbe } from './probe';
import { checkClaim, sniffMedia, SNIFF_BYTES, type SniffedMedia } from './sniff';
import type { MediaStorage } from './storage';

export type UploadInput = {
	ownerId: string;
	/** The uploader's file name as sent (already URI-decoded); cleaned here. */
	filename: string | null;
	/** The Content-Type the client claimed; only compared with the bytes, never stored. */
	claimedType: string | null;
	body: ReadableStream<Uint8Array> | null;
	/** Content-Length, when the client sent one: a body declared too large is refused unread. */
	declaredBytes: number | null;
	maxBytes: number;
	/** Where the body is spooled while it arrives (see `uploadTempDir`). */
	tempDir: string;
	now: Date;
};

export type UploadFailure =
	| 'too_large'
	| 'unsupported_type'
	| 'mismatch'
	| 'unplayable'
	| 'empty'
	| 'no_filename'
	| 'invalid_filename'
	| 'interrupted';

export type UploadResult =
	{ ok: true; item: MediaItem } | { ok: false; reason: UploadFailure; message: string };

/** Uploads are spooled here, inside DATA_DIR, so moving them into disk storage is a rename. */
export function uploadTempDir(dataDir: string): string {
	return resolve(dataDir, 'media-uploads');
}

/** Longest stored file name, in characters; longer names are cut. */
const MAX_FILENAME_LENGTH = 200;

/**
 * A display name from what the client sent: no directories, no control characters, at most
 * `MAX_FILENAME_LENGTH` characters; null when nothing is left.
 */
export function cleanFilename(raw: string | null): string | null {
	if (raw === null) return null;
	const base = raw.split(/[\\/]/).pop() ?? '';
	const printable = Array.from(base).filter((char) => {
		const code = char.codePointAt(0)!;
		return code >= 0x20 && code !== 0x7f;
	});
	const cleaned = printable.slice(0, MAX_FILENAME_LENGTH).join('').trim();
	return cleaned || null;
}

/** A container that can hold video or only sound; an audio-only one is stored as audio. */
const AUDIO_ONLY_TYPES: Record<string, string> = {
	'video/mp4': 'audio/mp4',
	'video/webm': 'audio/webm',
	'video/ogg': 'audio/ogg',
	'video/x-matroska': 'audio/x-matroska'
};

type Classified =
	{ ok: true; kind: MediaKind; contentType: string } | { ok: false; message: string };

/**
 * Combines the sniffed format with what ffprobe found. Without ffprobe the sniffed format is
 * trusted as is.
 */
function classifyMedia(
	sniffed: SniffedMedia,
	probe: MediaProbe | null,
	filename: string
): Classified {
	if (!probe || sniffed.kind === 'image') return { ok: true, ...sniffed };
	if (sniffed.kind === 'video' && !probe.hasVideo) {
		if (probe.hasAudio) {
			const contentType = AUDIO_ONLY_TYPES[sniffed.contentType] ?? sniffed.contentType;
			return { ok: true, kind: 'audio', contentType };
		}
		return {
			ok: false,
			message: `“${filename}” is not a playable video: no video or audio stream in it could be read.`
		};
	}
	if (sniffed.kind === 'audio' && !probe.hasAudio) {
		return {
			ok: false,
			message: `“${filename}” is not playable audio: no audio stream in it could be read.`
		};
	}
	return { ok: true, ...sniffed };
}

type Spooled =
	| { ok: true; size: number; sha256: string; head: Uint8Array }
	| { ok: false; reason: 'too_large' | 'interrupted' };

async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
	let written = 0;
	while (written < chunk.byteLength) {
		const result = await handle.write(chunk, written, chunk.byteLength - written);
		written += result.bytesWritten;
	}
}

/**
 * Streams the body into `path` chunk by chunk (never the whole file in memory), counting bytes,
 * hashing them and keeping the first `SNIFF_BYTES` for sniffing.
 */
async function spoolBody(
	body: ReadableStream<Uint8Array>,
	path: string,
	maxBytes: number
): Promise<Spooled> {
	const hasher = new Bun.CryptoHasher('sha256');
	const head = new Uint8Array(SNIFF_BYTES);
	let headLength = 0;
	let size = 0;
	const handle = await open(path, 'wx');
	const reader = body.getReader();
	try {
		for (;;) {
			let read: Awaited<ReturnType<typeof reader.read>>;
			try {
				read = await reader.read();
			} catch {
				return { ok: false, reason: 'interrupted' };
			}
			if (read.done) break;
			const chunk = read.value;
			size += chunk.byteLength;
			if (size > maxBytes) {
				await reader.cancel().catch(() => {});
				return { ok: false, reason: 'too_large' };
			}
			hasher.update(chunk);
			if (headLength < SNIFF_BYTES) {
				const take = chunk.subarray(0, SNIFF_BYTES - headLength);
				head.set(take, headLength);
				headLength += take.byteLength;
			}
			await writeFully(handle, chunk);
		}
	} finally {
		reader.releaseLock();
		await handle.close();
	}
	return { ok: true, size, sha256: hasher.digest('hex'), head: head.subarray(0, headLength) };
}

/**
 * Stores an uploaded media file: spools the body to a temporary file inside DATA_DIR (refusing
 * it past `maxBytes`), sniffs the bytes, checks them against the claimed name and type, probes
 * video and audio with ffprobe when installed, then moves the file into storage and records it.
 * Every failure removes what was written.
 */
export async function storeUpload(
	db: Database,
	storage: MediaStorage,
	input: UploadInput
): Promise<UploadResult> {
	// Refused, not cleaned: the rule is the same for every text, and the name is the uploader's.
	const unstorable = input.filename === null ? null : findUnstorableText(input.filename);
	if (unstorable) {
		return {
			ok: false,
			reason: 'invalid_filename',
			message: `The file name cannot be used. ${describeUnstorableText(unstorable)}`
		};
	}
	const filename = cleanFilename(input.filename);
	if (!filename) {
		return {
			ok: false,
			reason: 'no_filename',
			message: 'Name the file: send its name in the X-Filename header or the ?filename= parameter.'
		};
	}
	const tooLarge = {
		ok: false,
		reason: 'too_large',
		message: `“${filename}” is larger than the ${formatBytes(input.maxBytes)} upload limit.`
	} as const;
	if (input.declaredBytes !== null && input.declaredBytes > input.maxBytes) return tooLarge;
	const empty = { ok: false, reason: 'empty', message: `“${filename}” is empty.` } as const;
	if (!input.body || input.declaredBytes === 0) return empty;

	await mkdir(input.tempDir, { recursive: true });
	const tempPath = join(input.tempDir, `${generateSecureRandomString()}.part`);
	try {
		const spooled = await spoolBody(input.body, tempPath, input.maxBytes);
		if (!spooled.ok) {
			return spooled.reason === 'too_large'
				? tooLarge
				: {
						ok: false,
						reason: 'interrupted',
						message: `The upload of “${filename}” was interrupted before it finished.`
					};
		}
		if (spooled.size === 0) return empty;

		const sniffed = sniffMedia(spooled.head);
		const claim = checkClaim(sniffed, filename, input.claimedType);
		if (!claim.ok) return claim;
		const probe = await probeMedia(tempPath);
		const classified = classifyMedia(sniffed!, probe, filename);
		if (!classified.ok) return { ok: false, reason: 'unplayable', message: classified.message };

		const id = generateSecureRandomString();
		await storage.write(id, { path: tempPath }, classified.contentType);
		try {
			const [item] = await db
				.insert(mediaItems)
				.values({
					id,
					ownerId: input.ownerId,
					filename,
					kind: classified.kind,
					contentType: classified.contentType,
					sizeBytes: spooled.size,
					sha256: spooled.sha256,
					storage: storage.kind,
					storageKey: id,
					durationSeconds: classified.kind === 'image' ? null : (probe?.durationSeconds ?? null),
					width: classified.kind === 'audio' ? null : (probe?.width ?? null),
					height: classified.kind === 'audio' ? null : (probe?.height ?? null),
					createdAt: input.now
				})
				.returning();
			return { ok: true, item: item! };
		} catch (error) {
			await storage.remove(id).catch(() => {});
			throw error;
		}
	} finally {
		await rm(tempPath, { force: true });
	}
}
