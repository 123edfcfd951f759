/**
 * Recordings per room for the dashboard, with download links where Ensemble can serve them:
 * the link goes through Ensemble (access checked and audited on every click), which answers
 * with a fresh short-lived presigned URL for an S3 object or streams a local file with Range.
 */
import { and, asc, eq } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import { recordAudit } from '../audit/record';
import type { SessionUser } from '../auth/sessions';
import type { Env } from '../config/env';
import type { Database } from '../db';
import { roomEvents } from '../db/schema';
import { findStudyRoomForUser } from '../replay/access';
import { listRecordings, type RoomRecording } from './list';
import {
	locateRecording,
	PRESIGN_EXPIRY_S,
	recordingsDirOf,
	resolveInside,
	type RecordingLocation
} from './locate';

export type RecordingListing = RoomRecording & {
	/** Where the download link leads: S3 (presigned on click), a local file, or nowhere. */
	source: 's3' | 'local' | null;
	/** Ensemble's download route; null when there is no link. */
	href: string | null;
	/** Why there is no link, for people. */
	reason: string | null;
};

type RecordingEnv = Pick<Env, 'dataDir' | 's3'>;

/** The room's `av.recorded` events, in log order. */
async function readAvEvents(db: Database, roomId: string): Promise<RoomEvent[]> {
	const rows = await db
		.select()
		.from(roomEvents)
		.where(and(eq(roomEvents.roomId, roomId), eq(roomEvents.name, 'av.recorded')))
		.orderBy(asc(roomEvents.seq));
	return rows.map((row) => ({
		seq: row.seq,
		at: row.at.getTime(),
		actor: row.actor,
		name: row.name,
		payload: row.payload
	}));
}

/** The download route of one recording. */
export function recordingHref(studyId: string, roomId: string, recordingId: string): string {
	return `/api/studies/${encodeURIComponent(studyId)}/rooms/${encodeURIComponent(roomId)}/recordings/${encodeURIComponent(recordingId)}`;
}

async function locate(env: RecordingEnv, roomId: string, recording: RoomRecording) {
	if (recording.status === 'failed' && !recording.file) {
		return { kind: 'none', reason: 'The recording failed; there is no file.' } as const;
	}
	return locateRecording(recording.file, {
		roomId,
		s3: env.s3,
		recordingsDir: recordingsDirOf(env)
	});
}

export type RecordingListResult =
	{ ok: true; recordings: RecordingListing[] } | { ok: false; reason: 'not_found' };

/** The room's recordings with their links (any access to the study). */
export async function listRoomRecordings(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	studyId: string,
	roomId: string,
	env: RecordingEnv
): Promise<RecordingListResult> {
	const access = await findStudyRoomForUser(db, user, studyId, roomId);
	if (!access.ok) return access;
	const recordings = listRecordings(await readAvEvents(db, roomId));
	return {
		ok: true,
		recordings: await Promise.all(
			recordings.map(async (recording): Promise<RecordingListing> => {
				const location = await locate(env, roomId, recording);
				return {
					...recording,
					source: location.kind === 'none' ? null : location.kind,
					href: location.kind === 'none' ? null : recordingHref(studyId, roomId, recording.id),
					reason: location.kind === 'none' ? location.reason : null
				};
			})
		)
	};
}

export type RecordingDownload =
	| { ok: true; kind: 'redirect'; url: string }
	| { ok: true; kind: 'file'; path: string; filename: string }
	| { ok: false; reason: 'not_found' }
	| { ok: false; reason: 'no_file'; message: string };

/**
 * One recording's bytes for `user`: a presigned S3 URL (PRESIGN_EXPIRY_S) or the local file's
 * absolute path. The access is audited (`recording.download`) before anything is handed out.
 */
export async function openRecordingDownload(
	db: Database,
	user: SessionUser,
	studyId: string,
	roomId: string,
	recordingId: string,
	env: RecordingEnv
): Promise<RecordingDownload> {
	const access = await findStudyRoomForUser(db, user, studyId, roomId);
	if (!access.ok) return access;
	const recording = listRecordings(await readAvEvents(db, roomId)).find(
		(candidate) => candidate.id === recordingId
	);
	if (!recording) return { ok: false, reason: 'not_found' };
	const location: RecordingLocation = await locate(env, roomId, recording);
	if (location.kind === 'none') return { ok: false, reason: 'no_file', message: location.reason };
	await recordAudit(db, {
		user,
		studyId,
		action: 'recording.download',
		detail: { roomId, recordingId, source: location.kind }
	});
	if (location.kind === 's3') {
		const client = new Bun.S3Client({
			bucket: env.s3!.bucket,
			endpoint: env.s3!.endpoint,
			region: env.s3!.region,
			accessKeyId: env.s3!.accessKeyId,
			secretAccessKey: env.s3!.secretAccessKey
		});
		const url = client.presign(location.key, { method: 'GET', expiresIn: PRESIGN_EXPIRY_S });
		return { ok: true, kind: 'redirect', url };
	}
	// locateRecording checked the path stays inside the directory and is a regular file.
	const path = resolveInside(recordingsDirOf(env), location.path)!;
	return { ok: true, kind: 'file', path, filename: location.path.split('/').at(-1)! };
}
