import { log } from '../log';

/** What ffprobe found in a file. */
export type MediaProbe = {
	/** A decodable video stream (cover art attached to audio does not count). */
	hasVideo: boolean;
	/** A decodable audio stream. */
	hasAudio: boolean;
	durationSeconds: number | null;
	width: number | null;
	height: number | null;
};

/**
 * ffprobe reads only headers and a few packets, so even a large file takes well under a
 * second; this bound only stops a pathological file from holding an upload forever.
 */
export const PROBE_TIMEOUT_MS = 15_000;

/** Enough JSON for hundreds of streams; anything larger is not a file we want. */
const MAX_PROBE_OUTPUT = 1024 * 1024;

type FfprobeStream = {
	codec_type?: string;
	codec_name?: string;
	width?: number;
	height?: number;
	duration?: string;
	disposition?: { attached_pic?: number };
};
type FfprobeOutput = { streams?: FfprobeStream[]; format?: { duration?: string } };

const NOTHING_FOUND: MediaProbe = {
	hasVideo: false,
	hasAudio: false,
	durationSeconds: null,
	width: null,
	height: null
};

function positiveNumber(value: unknown): number | null {
	const number = typeof value === 'string' ? Number(value) : value;
	return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : null;
}

/** Turns ffprobe's JSON into what the library stores. Exported for tests. */
export function summarizeProbe(output: FfprobeOutput): MediaProbe {
	const streams = output.streams ?? [];
	const decodable = (stream: FfprobeStream) => Boolean(stream.codec_name);
	const video = streams.find(
		(stream) =>
			stream.codec_type === 'video' && decodable(stream) && stream.disposition?.attached_pic !== 1
	);
	// Still images are a single "video" stream too; their dimensions come from it.
	const picture = video ?? streams.find((stream) => stream.codec_type === 'video');
	const audio = streams.find((stream) => stream.codec_type === 'audio' && decodable(stream));
	return {
		hasVideo: Boolean(video),
		hasAudio: Boolean(audio),
		durationSeconds:
			positiveNumber(output.format?.duration) ??
			positiveNumber(video?.duration) ??
			positiveNumber(audio?.duration),
		width: positiveNumber(picture?.width),
		height: positiveNumber(picture?.height)
	};
}

/**
 * Runs ffprobe on a local file when it is installed. Returns null when ffprobe is not on PATH
 * or did not answer in time (the upload then goes ahead without duration and dimensions); a
 * file ffprobe cannot read at all comes back with no streams.
 */
export async function probeMedia(
	path: string,
	timeoutMs = PROBE_TIMEOUT_MS
): Promise<MediaProbe | null> {
	const ffprobe = Bun.which('ffprobe');
	if (!ffprobe) return null;
	const child = Bun.spawn(
		[
			ffprobe,
			'-v',
			'error',
			// Only the local file: a crafted container must not make us fetch URLs.
			'-protocol_whitelist',
			'file',
			'-print_format',
			'json',
			'-show_format',
			'-show_streams',
			path
		],
		{ stdout: 'pipe', stderr: 'ignore', stdin: 'ignore' }
	);
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		child.kill('SIGKILL');
	}, timeoutMs);
	try {
		const [text, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
		if (timedOut) {
			log.warn('media.probe_timeout', { timeoutMs });
			return null;
		}
		if (exitCode !== 0 || text.length > MAX_PROBE_OUTPUT) return NOTHING_FOUND;
		return summarizeProbe(JSON.parse(text) as FfprobeOutput);
	} catch {
		return NOTHING_FOUND;
	} finally {
		clearTimeout(timer);
	}
}
