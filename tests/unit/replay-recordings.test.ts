import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoomEvent } from '../../src/lib/protocol';
import { listRecordings } from '../../src/lib/server/recordings/list';
import {
	classifyLocation,
	findOwnRelativePath,
	findS3Key,
	locateRecording,
	resolveInside
} from '../../src/lib/server/recordings/locate';
import { contentTypeOf, serveRecordingFile } from '../../src/lib/server/recordings/serve';

// Recordings per room: the log's egress facts become one entry per recording, and a reported
// location becomes an S3 key in our bucket, a file under DATA_DIR/recordings, or a reason.

const ROOM = 'room_7f3a';
const S3 = { bucket: 'lab-media', endpoint: 'https://minio.lab.example:9000' };

const av = (seq: number, payload: Record<string, unknown>): RoomEvent => ({
	seq,
	at: 1_000 + seq,
	actor: 'system',
	name: 'av.recorded',
	payload
});

describe('listRecordings', () => {
	test('one entry per egress: started, then ended with the final file; failures apart', () => {
		const recordings = listRecordings([
			av(1, {
				kind: 'egress_started',
				egressId: 'EG_a',
				stageId: 'talk',
				file: `ensemble/${ROOM}/talk-{time}.mp4`,
				status: 'EGRESS_STARTING',
				error: null,
				at: 100
			}),
			av(2, { kind: 'participant_joined', identity: 'p1', at: 101 }),
			{ seq: 3, at: 1, actor: 'system', name: 'chat.sent', payload: {} },
			av(4, {
				kind: 'egress_ended',
				egressId: 'EG_a',
				stageId: null,
				file: `/out/ensemble/${ROOM}/talk-20260101.mp4`,
				status: 'EGRESS_COMPLETE',
				error: null,
				at: 200
			}),
			av(5, { kind: 'recording_failed', stageId: 'debrief', message: 'Egress is down', at: 300 }),
			av(6, {
				kind: 'egress_started',
				egressId: 'EG_b',
				stageId: 'debrief',
				file: 'x.mp4',
				status: 'EGRESS_STARTING',
				error: null,
				at: 400
			}),
			av(7, {
				kind: 'egress_ended',
				egressId: 'EG_b',
				stageId: null,
				file: null,
				status: 'EGRESS_FAILED',
				error: 'out of disk',
				at: 500
			})
		]);
		expect(recordings).toEqual([
			{
				id: 'EG_a',
				stageId: 'talk',
				status: 'ended',
				egressStatus: 'EGRESS_COMPLETE',
				startedAt: 100,
				endedAt: 200,
				file: `/out/ensemble/${ROOM}/talk-20260101.mp4`,
				error: null
			},
			{
				id: 'failed-5',
				stageId: 'debrief',
				status: 'failed',
				egressStatus: null,
				startedAt: null,
				endedAt: 300,
				file: null,
				error: 'Egress is down'
			},
			{
				id: 'EG_b',
				stageId: 'debrief',
				status: 'failed',
				egressStatus: 'EGRESS_FAILED',
				startedAt: 400,
				endedAt: 500,
				file: 'x.mp4',
				error: 'out of disk'
			}
		]);
	});

	test('a recording still running keeps its template file name', () => {
		const [only] = listRecordings([
			av(1, {
				kind: 'egress_started',
				egressId: 'EG_c',
				stageId: 'talk',
				file: `ensemble/${ROOM}/talk-{time}.mp4`,
				status: 'EGRESS_STARTING',
				error: null,
				at: 5
			})
		]);
		expect(only).toMatchObject({
			status: 'recording',
			endedAt: null,
			file: `ensemble/${ROOM}/talk-{time}.mp4`
		});
	});
});

describe('where a file is', () => {
	test('our own relative path is found behind any prefix, and never leaves it', () => {
		expect(findOwnRelativePath(`/out/ensemble/${ROOM}/talk-1.mp4`, ROOM)).toBe(
			`ensemble/${ROOM}/talk-1.mp4`
		);
		expect(findOwnRelativePath(`ensemble/${ROOM}/talk-1.mp4`, ROOM)).toBe(
			`ensemble/${ROOM}/talk-1.mp4`
		);
		expect(findOwnRelativePath(`ensemble/${ROOM}/../../etc/passwd`, ROOM)).toBeNull();
		expect(findOwnRelativePath(`ensemble/${ROOM}/../other/x.mp4`, ROOM)).toBeNull();
		expect(findOwnRelativePath(`/out/myensemble/${ROOM}/x.mp4`, ROOM)).toBeNull();
		expect(findOwnRelativePath(`ensemble/other-room/x.mp4`, ROOM)).toBeNull();
		expect(findOwnRelativePath(`ensemble/${ROOM}/`, ROOM)).toBeNull();
	});

	test('S3 locations in our bucket: s3://, virtual-hosted and path style URLs', () => {
		expect(findS3Key('s3://lab-media/ensemble/r/t.mp4', S3)).toBe('ensemble/r/t.mp4');
		expect(findS3Key('s3://other/ensemble/r/t.mp4', S3)).toBeNull();
		expect(findS3Key('https://lab-media.s3.eu-west-1.amazonaws.com/ensemble/r/t%20x.mp4', S3)).toBe(
			'ensemble/r/t x.mp4'
		);
		expect(findS3Key('https://minio.lab.example:9000/lab-media/ensemble/r/t.mp4', S3)).toBe(
			'ensemble/r/t.mp4'
		);
		expect(findS3Key('https://storage.googleapis.com/lab-media/x.mp4', S3)).toBeNull();
		expect(findS3Key('https://cdn.example/lab-media/x.mp4', S3)).toBeNull();
		// Without an endpoint (AWS), path style only on AWS's own hosts.
		const aws = { bucket: 'lab-media', endpoint: undefined };
		expect(findS3Key('https://s3.eu-west-1.amazonaws.com/lab-media/x.mp4', aws)).toBe('x.mp4');
		expect(findS3Key('https://s3.amazonaws.com/lab-media/x.mp4', aws)).toBe('x.mp4');
		expect(findS3Key('https://cdn.example/lab-media/x.mp4', aws)).toBeNull();
		expect(findS3Key('not a url', S3)).toBeNull();
	});

	test('each kind of location classified, with a reason when there can be no link', () => {
		const options = { roomId: ROOM, s3: S3 };
		expect(classifyLocation(null, options).reason).toMatch(/not reported a file/);
		expect(classifyLocation(`ensemble/${ROOM}/t-{time}.mp4`, options).reason).toMatch(/template/);
		expect(classifyLocation('s3://lab-media/k.mp4', options)).toEqual({
			s3Key: 'k.mp4',
			localPath: null,
			reason: null
		});
		expect(classifyLocation('gs://bucket/k.mp4', options).reason).toMatch(
			/outside Ensemble's S3 bucket/
		);
		expect(classifyLocation('s3://lab-media/k.mp4', { roomId: ROOM, s3: null }).reason).toMatch(
			/S3 is not configured/
		);
		expect(classifyLocation(`ensemble/${ROOM}/t.mp4`, options)).toEqual({
			s3Key: `ensemble/${ROOM}/t.mp4`,
			localPath: `ensemble/${ROOM}/t.mp4`,
			reason: null
		});
		expect(classifyLocation(`/out/ensemble/${ROOM}/t.mp4`, options)).toEqual({
			s3Key: null,
			localPath: `ensemble/${ROOM}/t.mp4`,
			reason: null
		});
		expect(classifyLocation('/srv/elsewhere/t.mp4', { roomId: ROOM, s3: null }).reason).toMatch(
			/outside the folder Ensemble reads/
		);
	});

	const root = mkdtempSync(join(tmpdir(), 'ensemble-recordings-'));
	afterAll(() => rmSync(root, { recursive: true, force: true }));

	test('a file present under the recordings directory wins; absent, S3 or the reason', async () => {
		mkdirSync(join(root, 'ensemble', ROOM), { recursive: true });
		writeFileSync(join(root, 'ensemble', ROOM, 'talk.mp4'), 'movie');
		mkdirSync(join(root, 'ensemble', ROOM, 'folder.mp4'));
		const local = { roomId: ROOM, s3: null, recordingsDir: root };
		expect(await locateRecording(`/out/ensemble/${ROOM}/talk.mp4`, local)).toEqual({
			kind: 'local',
			path: `ensemble/${ROOM}/talk.mp4`
		});
		const missing = await locateRecording(`/out/ensemble/${ROOM}/gone.mp4`, local);
		expect(missing.kind).toBe('none');
		expect((missing as { reason: string }).reason).toMatch(/DATA_DIR\/recordings/);
		// A directory is not a file to serve.
		expect((await locateRecording(`ensemble/${ROOM}/folder.mp4`, local)).kind).toBe('none');
		expect(await locateRecording(`ensemble/${ROOM}/gone.mp4`, { ...local, s3: S3 })).toEqual({
			kind: 's3',
			key: `ensemble/${ROOM}/gone.mp4`
		});
		expect(resolveInside(root, '../x')).toBeNull();
		expect(resolveInside(root, '')).toBeNull();
		expect(resolveInside(root, 'ensemble/x.mp4')).toBe(join(root, 'ensemble/x.mp4'));
	});
});

describe('serving a local recording', () => {
	const root = mkdtempSync(join(tmpdir(), 'ensemble-serve-'));
	const path = join(root, 'talk.mp4');
	writeFileSync(path, '0123456789');
	afterAll(() => rmSync(root, { recursive: true, force: true }));
	const get = (headers: Record<string, string> = {}, method = 'GET') =>
		serveRecordingFile(path, 'talk (1).mp4', new Request('http://x/', { method, headers }));

	test('the whole file as an attachment, ranges as 206, past the end 416', async () => {
		const whole = await get();
		expect(whole.status).toBe(200);
		expect(await whole.text()).toBe('0123456789');
		expect(whole.headers.get('content-type')).toBe('video/mp4');
		expect(whole.headers.get('content-disposition')).toBe(
			"attachment; filename*=UTF-8''talk%20%281%29.mp4"
		);
		expect(whole.headers.get('accept-ranges')).toBe('bytes');
		const part = await get({ range: 'bytes=2-5' });
		expect(part.status).toBe(206);
		expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
		expect(await part.text()).toBe('2345');
		const tail = await get({ range: 'bytes=-3' });
		expect(await tail.text()).toBe('789');
		const beyond = await get({ range: 'bytes=10-' });
		expect(beyond.status).toBe(416);
		expect(beyond.headers.get('content-range')).toBe('bytes */10');
		// A stale If-Range validator gets the whole file.
		const stale = await get({ range: 'bytes=2-5', 'if-range': 'W/"old"' });
		expect(stale.status).toBe(200);
		const head = await get({}, 'HEAD');
		expect(head.headers.get('content-length')).toBe('10');
		expect(await head.text()).toBe('');
	});

	test('content types by extension', () => {
		expect(contentTypeOf('a.MP4')).toBe('video/mp4');
		expect(contentTypeOf('a.ogg')).toBe('audio/ogg');
		expect(contentTypeOf('noext')).toBe('application/octet-stream');
	});
});
