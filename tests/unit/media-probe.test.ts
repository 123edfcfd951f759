import { describe, expect, test } from 'bun:test';
import { summarizeProbe } from '../../src/lib/server/media/probe';

describe('summarizeProbe', () => {
	test('reads duration and dimensions of a video', () => {
		const summary = summarizeProbe({
			streams: [
				{ codec_type: 'video', codec_name: 'vp9', width: 320, height: 240 },
				{ codec_type: 'audio', codec_name: 'opus' }
			],
			format: { duration: '2.007000' }
		});
		expect(summary).toEqual({
			hasVideo: true,
			hasAudio: true,
			durationSeconds: 2.007,
			width: 320,
			height: 240
		});
	});

	test('cover art attached to audio is not a video stream', () => {
		const summary = summarizeProbe({
			streams: [
				{ codec_type: 'audio', codec_name: 'mp3', duration: '3.5' },
				{
					codec_type: 'video',
					codec_name: 'mjpeg',
					width: 600,
					height: 600,
					disposition: { attached_pic: 1 }
				}
			],
			format: {}
		});
		expect(summary.hasVideo).toBe(false);
		expect(summary.hasAudio).toBe(true);
		expect(summary.durationSeconds).toBe(3.5);
	});

	test('streams ffprobe cannot decode do not count', () => {
		const summary = summarizeProbe({
			streams: [{ codec_type: 'video' }],
			format: { duration: 'N/A' }
		});
		expect(summary).toMatchObject({ hasVideo: false, hasAudio: false, durationSeconds: null });
	});
});
