/**
 * Where a recording's file can be fetched from (issue 7): the Egress service writes it to its
 * own disk or to a bucket, and reports the location as a path, an S3 key or a URL. Ensemble can
 * hand it out when it is an object in the configured S3 bucket (a short presigned link) or a
 * file under `DATA_DIR/recordings` (the Egress output directory mounted there, streamed by
 * Ensemble); otherwise the location is shown with the reason there is no link.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { Env, S3Settings } from '../config/env';

/** Under DATA_DIR: where Ensemble looks for recordings written by a local Egress service. */
export const RECORDINGS_DIR_NAME = 'recordings';
/** Presigned links are made per click and live this long: enough to start a download. */
export const PRESIGN_EXPIRY_S = 300;

/** What the location of a recording means for downloading it. */
export type RecordingLocation =
	| { kind: 's3'; key: string }
	/** `path` is relative to the recordings directory, normalized, never leaving it. */
	| { kind: 'local'; path: string }
	| { kind: 'none'; reason: string };

export type LocateOptions = {
	roomId: string;
	s3: Pick<S3Settings, 'bucket' | 'endpoint'> | null;
};

/**
 * The part of a path from Ensemble's own prefix on (`ensemble/<roomId>/…`, the egress file path
 * Ensemble asks for), whatever directory the Egress service put in front of it; null when the
 * path is not under that prefix or tries to leave it.
 */
export function findOwnRelativePath(path: string, roomId: string): string | null {
	const marker = `ensemble/${roomId}/`;
	const at = path.indexOf(marker);
	if (at < 0 || (at > 0 && path[at - 1] !== '/')) return null;
	const candidate = normalize(path.slice(at)).split(sep).join('/');
	// Normalizing resolves `..`: what is left must still be inside this room's own folder.
	return candidate.startsWith(marker) && candidate.length > marker.length ? candidate : null;
}

/** The object key when `location` names an object in `s3`'s bucket, else null. */
export function findS3Key(
	location: string,
	s3: Pick<S3Settings, 'bucket' | 'endpoint'>
): string | null {
	const bucket = s3.bucket;
	if (location.startsWith('s3://')) {
		const rest = location.slice('s3://'.length);
		return rest.startsWith(`${bucket}/`) ? rest.slice(bucket.length + 1) || null : null;
	}
	let url: URL;
	try {
		url = new URL(location);
	} catch {
		return null;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
	const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
	// Virtual-hosted style: https://<bucket>.s3.<region>.amazonaws.com/<key>
	if (url.hostname.startsWith(`${bucket}.`)) return path || null;
	// Path style: https://<endpoint>/<bucket>/<key> (MinIO, R2, …, or AWS path style).
	const endpointHost = s3.endpoint ? safeHost(s3.endpoint) : null;
	const pathStyleHost =
		endpointHost !== null
			? url.host === endpointHost
			: /^s3([.-][a-z0-9-]+)*\.amazonaws\.com$/.test(url.hostname);
	if (pathStyleHost && path.startsWith(`${bucket}/`)) return path.slice(bucket.length + 1) || null;
	return null;
}

function safeHost(url: string): string | null {
	try {
		return new URL(url).host;
	} catch {
		return null;
	}
}

/**
 * Decides where a recording file reported as `file` is, without touching the disk: a URL or
 * `s3://` location in our bucket is S3; a bare key or path under `ensemble/<roomId>/` is looked
 * for locally first (the caller checks the disk) and in S3 when configured.
 */
export function classifyLocation(
	file: string | null,
	options: LocateOptions
): { s3Key: string | null; localPath: string | null; reason: string | null } {
	if (!file) {
		return { s3Key: null, localPath: null, reason: 'The recording has not reported a file yet.' };
	}
	if (file.includes('{') && file.includes('}')) {
		return {
			s3Key: null,
			localPath: null,
			reason: 'The file name is final once the recording ends (it is still a template).'
		};
	}
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
		if (!options.s3) {
			return {
				s3Key: null,
				localPath: null,
				reason: 'Stored in a bucket, and S3 is not configured in Ensemble.'
			};
		}
		const key = findS3Key(file, options.s3);
		return key
			? { s3Key: key, localPath: null, reason: null }
			: {
					s3Key: null,
					localPath: null,
					reason: `Stored outside Ensemble's S3 bucket (${options.s3.bucket}); fetch it where the Egress service stores files.`
				};
	}
	const own = findOwnRelativePath(file, options.roomId);
	// A relative name is an object key when the egress uploads (LiveKit reports bare keys too).
	const s3Key = options.s3 && !file.startsWith('/') ? file : null;
	if (!own && !s3Key) {
		return {
			s3Key: null,
			localPath: null,
			reason: options.s3
				? 'The file is on the Egress server, outside the folder Ensemble reads (DATA_DIR/recordings).'
				: 'The file is outside the folder Ensemble reads (DATA_DIR/recordings), and S3 is not configured.'
		};
	}
	return { s3Key, localPath: own, reason: null };
}

/** The recordings directory for a configuration. */
export function recordingsDirOf(env: Pick<Env, 'dataDir'>): string {
	return resolve(env.dataDir, RECORDINGS_DIR_NAME);
}

/** The absolute path of a relative recording path, or null when it would leave `root`. */
export function resolveInside(root: string, path: string): string | null {
	const absolute = resolve(root, path);
	const back = relative(root, absolute);
	if (back === '' || back.startsWith('..') || isAbsolute(back)) return null;
	return absolute;
}

/**
 * Where a recording can be fetched from: a regular file under the recordings directory wins
 * (it is there now), then the S3 key, else why there is no link.
 */
export async function locateRecording(
	file: string | null,
	options: LocateOptions & { recordingsDir: string }
): Promise<RecordingLocation> {
	const classified = classifyLocation(file, options);
	if (classified.localPath) {
		const absolute = resolveInside(options.recordingsDir, classified.localPath);
		if (absolute && (await isRegularFile(absolute))) {
			return { kind: 'local', path: classified.localPath };
		}
	}
	if (classified.s3Key) return { kind: 's3', key: classified.s3Key };
	return {
		kind: 'none',
		reason:
			classified.reason ??
			`No file at ${join(RECORDINGS_DIR_NAME, classified.localPath ?? '')} yet: mount the Egress service's output directory at DATA_DIR/recordings, or configure S3.`
	};
}

async function isRegularFile(path: string): Promise<boolean> {
	try {
		return (await stat(path)).isFile();
	} catch {
		return false;
	}
}
