import { spawnSync } from 'node:child_process';

/**
 * A VP9/WebM test clip made with ffmpeg: `testsrc` (a moving pattern with a running counter
 * drawn into every frame, so a screenshot shows which frame is up) at 30 fps, and a 440 Hz
 * Opus tone. Playwright runs specs under Node, hence node:child_process.
 */
export function makeSyncClip(path: string, seconds: number): void {
	const ffmpeg = spawnSync(
		'ffmpeg',
		[
			'-hide_banner',
			'-loglevel',
			'error',
			'-y',
			'-f',
			'lavfi',
			'-i',
			`testsrc=size=320x240:rate=30:duration=${seconds}`,
			'-f',
			'lavfi',
			'-i',
			`sine=frequency=440:duration=${seconds}`,
			'-c:v',
			'libvpx-vp9',
			'-deadline',
			'realtime',
			'-cpu-used',
			'8',
			'-b:v',
			'400k',
			// A keyframe every second: seeks land quickly.
			'-g',
			'30',
			'-c:a',
			'libopus',
			'-shortest',
			path
		],
		{ encoding: 'utf8' }
	);
	if (ffmpeg.status !== 0) throw new Error(`ffmpeg failed: ${ffmpeg.stderr}`);
}
