import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Env, S3Settings } from '../config/env';

/** Where media bytes can live; stored with each item so a later change of setting is visible. */
export type StorageKind = 'disk' | 's3';

/** A local file to move in (disk) or upload (S3), or a stream of bytes. */
export type StorageSource = { path: string } | ReadableStream<Uint8Array>;

/**
 * The few operations the media library needs from a blob store. Keys are opaque names we
 * generate (letters and digits); callers never pass user input as a key.
 */
export interface MediaStorage {
	readonly kind: StorageKind;
	/** Stores the bytes under `key`. A `{ path }` source may be moved: do not use it afterwards. */
	write(key: string, source: StorageSource, contentType: string): Promise<void>;
	/** Size in bytes, or null when nothing is stored under `key`. */
	size(key: string): Promise<number | null>;
	/** Bytes `start` (inclusive) to `end` (exclusive), streamed when used as a response body. */
	slice(key: string, start: number, end: number): Blob;
	/** Removes the bytes; removing a missing key is not an error. */
	remove(key: string): Promise<void>;
}

const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,127}$/;

function assertKey(key: string): void {
	if (!KEY_PATTERN.test(key)) throw new Error(`invalid media storage key: ${JSON.stringify(key)}`);
}

/** Media on the local disk, one file per item under `<dataDir>/media`. */
export function createDiskStorage(dataDir: string): MediaStorage {
	const root = resolve(dataDir, 'media');
	const pathOf = (key: string) => {
		assertKey(key);
		return join(root, key);
	};
	return {
		kind: 'disk',
		async write(key, source) {
			const target = pathOf(key);
			await mkdir(root, { recursive: true });
			if (source instanceof ReadableStream) {
				// Written beside the target and renamed, so a reader never sees half a file.
				const partial = `${target}.${crypto.randomUUID()}.part`;
				try {
					await Bun.write(partial, new Response(source));
					await rename(partial, target);
				} finally {
					await rm(partial, { force: true });
				}
				return;
			}
			try {
				await rename(source.path, target);
			} catch (error) {
				// The temporary directory is on another filesystem: copy instead.
				if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
				await copyFile(source.path, target);
			}
		},
		async size(key) {
			try {
				return (await stat(pathOf(key))).size;
			} catch {
				return null;
			}
		},
		slice(key, start, end) {
			return Bun.file(pathOf(key)).slice(start, end);
		},
		async remove(key) {
			await rm(pathOf(key), { force: true });
		}
	};
}

/** Media in an S3-compatible bucket (AWS, MinIO, R2, …) through Bun's built-in client. */
export function createS3Storage(settings: S3Settings): MediaStorage {
	const client = new Bun.S3Client({
		bucket: settings.bucket,
		endpoint: settings.endpoint,
		region: settings.region,
		accessKeyId: settings.accessKeyId,
		secretAccessKey: settings.secretAccessKey
	});
	const objectKey = (key: string) => {
		assertKey(key);
		return `media/${key}`;
	};
	return {
		kind: 's3',
		async write(key, source, contentType) {
			const body = source instanceof ReadableStream ? new Response(source) : Bun.file(source.path);
			// Large bodies are sent as a multipart upload by Bun.
			await client.write(objectKey(key), body, { type: contentType });
		},
		async size(key) {
			try {
				return await client.size(objectKey(key));
			} catch {
				return null;
			}
		},
		slice(key, start, end) {
			return client.file(objectKey(key)).slice(start, end);
		},
		async remove(key) {
			await client.delete(objectKey(key));
		}
	};
}

const cache = new Map<string, MediaStorage>();

/**
 * The storage configured by the environment (S3 when `S3_BUCKET` is set, else
 * `DATA_DIR/media`), or the one an existing item names. Null when an item lives in S3 but S3 is
 * no longer configured.
 */
export function selectMediaStorage(
	env: Pick<Env, 'dataDir' | 's3'>,
	kind: StorageKind = env.s3 ? 's3' : 'disk'
): MediaStorage | null {
	if (kind === 's3' && !env.s3) return null;
	const cacheKey = kind === 's3' ? `s3:${JSON.stringify(env.s3)}` : `disk:${env.dataDir}`;
	let storage = cache.get(cacheKey);
	if (!storage) {
		storage = kind === 's3' ? createS3Storage(env.s3!) : createDiskStorage(env.dataDir);
		cache.set(cacheKey, storage);
	}
	return storage;
}
