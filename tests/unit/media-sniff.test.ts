import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { checkClaim, sniffMedia } from '../../src/lib/server/media/sniff';

const text = (value: string) => Array.from(value, (char) => char.charCodeAt(0));
const bytes = (...parts: (number[] | string)[]) =>
	new Uint8Array(parts.flatMap((part) => (typeof part === 'string' ? text(part) : part)));
const u32 = (value: number) => [
	value >>> 24,
	(value >>> 16) & 0xff,
	(value >>> 8) & 0xff,
	value & 0xff
];

/** An ISO BMFF `ftyp` box with a major brand and compatible brands. */
function ftyp(major: string, ...compatible: string[]) {
	return bytes(u32(16 + 4 * compatible.length), 'ftyp', major, u32(0x200), ...compatible);
}

/** An EBML header whose DocType element says `docType`. */
function ebml(docType: string) {
	const body = [
		...[0x42, 0x86, 0x81, 0x01], // EBMLVersion 1
		...[0x42, 0xf7, 0x81, 0x01], // EBMLReadVersion 1
		...[0x42, 0xf2, 0x81, 0x04], // EBMLMaxIDLength 4
		...[0x42, 0xf3, 0x81, 0x08], // EBMLMaxSizeLength 8
		...[0x42, 0x82, 0x80 | docType.length, ...text(docType)],
		...[0x42, 0x87, 0x81, 0x04], // DocTypeVersion 4
		...[0x42, 0x85, 0x81, 0x02] // DocTypeReadVersion 2
	];
	return bytes([0x1a, 0x45, 0xdf, 0xa3, 0x80 | body.length], body, [0x18, 0x53, 0x80, 0x67]);
}

/** One beginning-of-stream Ogg page carrying `packet`. */
function oggPage(packet: number[], serial: number) {
	return [
		...text('OggS'),
		0, // version
		0x02, // beginning of stream
		...new Array(8).fill(0), // granule position
		...u32(serial),
		...u32(0), // page sequence
		...u32(0), // checksum (not verified by sniffing)
		1, // one segment
		packet.length,
		...packet
	];
}
const vorbis = [0x01, ...text('vorbis'), ...new Array(23).fill(0)];
const opus = [...text('OpusHead'), 1, 2, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 0];
const theora = [0x80, ...text('theora'), 3, 2, 1, ...new Array(32).fill(0)];

const MPEG_FRAME = [0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0];
const id3 = (after: number[]) => bytes('ID3', [3, 0, 0, 0, 0, 0, 10], new Array(10).fill(0), after);
const riff = (form: string) => bytes('RIFF', u32(0x24000000), form, 'fmt ');

describe('sniffMedia recognises each accepted format by its bytes', () => {
	const cases: [string, Uint8Array, string | null][] = [
		['MP4 (isom)', ftyp('isom', 'isom', 'iso2', 'avc1', 'mp41'), 'video/mp4'],
		['MP4 (mp42)', ftyp('mp42', 'mp42', 'isom'), 'video/mp4'],
		['3GPP declaring MP4 compatibility', ftyp('3gp5', '3gp5', 'isom'), 'video/mp4'],
		['QuickTime MOV', ftyp('qt  ', 'qt  '), 'video/quicktime'],
		['classic MOV without ftyp', bytes(u32(8), 'wide', u32(1000), 'mdat'), 'video/quicktime'],
		['M4A', ftyp('M4A ', 'M4A ', 'mp42', 'isom'), 'audio/mp4'],
		['HEIC image (refused)', ftyp('heic', 'mif1', 'heic'), null],
		['AVIF image (refused)', ftyp('avif', 'avif', 'mif1', 'miaf', 'isom'), null],
		['WebM', ebml('webm'), 'video/webm'],
		['Matroska', ebml('matroska'), 'video/x-matroska'],
		['Ogg Vorbis', bytes(oggPage(vorbis, 1)), 'audio/ogg'],
		['Ogg Opus', bytes(oggPage(opus, 1)), 'audio/ogg'],
		['Ogg Theora', bytes(oggPage(theora, 1)), 'video/ogg'],
		['Ogg with Vorbis then Theora', bytes(oggPage(vorbis, 1), oggPage(theora, 2)), 'video/ogg'],
		['MP3 with an ID3 tag', id3(MPEG_FRAME), 'audio/mpeg'],
		['MP3 frame sync', bytes(MPEG_FRAME), 'audio/mpeg'],
		['FLAC', bytes('fLaC', [0, 0, 0, 34]), 'audio/flac'],
		['FLAC behind an ID3 tag', id3(text('fLaC')), 'audio/flac'],
		['WAV', riff('WAVE'), 'audio/wav'],
		['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'image/png'],
		['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF'), 'image/jpeg'],
		['GIF87a', bytes('GIF87a', [1, 0, 1, 0]), 'image/gif'],
		['GIF89a', bytes('GIF89a', [1, 0, 1, 0]), 'image/gif'],
		['WebP', riff('WEBP'), 'image/webp'],
		['AVI (refused)', riff('AVI '), null],
		['AAC ADTS (refused)', bytes([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc]), null],
		['plain text', bytes('This is not a video, just some notes.\n'), null],
		['HTML', bytes('<!doctype html><html><body>hi</body></html>'), null],
		['PDF', bytes('%PDF-1.7\n'), null],
		['ZIP', bytes([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]), null],
		['nothing', new Uint8Array(), null],
		['a few bytes', bytes([0x00, 0x00, 0x01]), null]
	];
	for (const [name, head, contentType] of cases) {
		test(`${name} → ${contentType ?? 'not accepted'}`, () => {
			expect(sniffMedia(head)?.contentType ?? null).toBe(contentType);
		});
	}

	test('kinds follow the content type', () => {
		expect(sniffMedia(ftyp('isom', 'isom'))?.kind).toBe('video');
		expect(sniffMedia(ftyp('M4A ', 'M4A '))?.kind).toBe('audio');
		expect(sniffMedia(bytes(oggPage(opus, 1)))?.kind).toBe('audio');
		expect(sniffMedia(riff('WEBP'))?.kind).toBe('image');
	});

	test('never throws, whatever the bytes', () => {
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 64 }), (head) => {
				const result = sniffMedia(head);
				expect(result === null || typeof result.contentType === 'string').toBe(true);
			}),
			{ numRuns: 2000 }
		);
		// Truncated headers of every supported format are handled too.
		for (const prefix of [ebml('webm'), bytes(oggPage(theora, 1)), ftyp('isom', 'isom')]) {
			for (let length = 0; length <= prefix.length; length++)
				sniffMedia(prefix.subarray(0, length));
		}
	});
});

describe('checkClaim compares the bytes with the name and claimed type', () => {
	const mp4 = sniffMedia(ftyp('isom', 'isom'));
	const webm = sniffMedia(ebml('webm'));
	const png = sniffMedia(riff('WEBP'));

	test('a .mp4 whose bytes are text is refused, saying what was expected', () => {
		const result = checkClaim(sniffMedia(bytes('just text')), 'clip.mp4', 'video/mp4');
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.reason).toBe('unsupported_type');
		expect(result.message).toContain('clip.mp4');
		expect(result.message).toContain('video or audio');
		expect(result.message).toContain('not a format we recognise');
	});

	test('unknown bytes without any claim are refused too', () => {
		expect(checkClaim(null, 'notes', 'application/octet-stream')).toMatchObject({
			ok: false,
			reason: 'unsupported_type'
		});
	});

	test('a .mp4 that is really WebM is accepted (the bytes are what we serve)', () => {
		expect(checkClaim(webm, 'clip.mp4', 'video/mp4')).toEqual({ ok: true });
	});

	test('audio and video share containers: an .mp3 holding MP4 is accepted', () => {
		expect(checkClaim(mp4, 'song.mp3', 'audio/mpeg')).toEqual({ ok: true });
	});

	test('an image named as a video, or a video named as an image, is a mismatch', () => {
		const imageAsVideo = checkClaim(png, 'clip.mp4', 'video/mp4');
		expect(imageAsVideo).toMatchObject({ ok: false, reason: 'mismatch' });
		if (!imageAsVideo.ok) expect(imageAsVideo.message).toContain('image/webp');
		expect(checkClaim(mp4, 'photo.jpg', 'image/jpeg')).toMatchObject({ reason: 'mismatch' });
		// The claimed type alone can contradict, too.
		expect(checkClaim(mp4, 'clip', 'image/png')).toMatchObject({ reason: 'mismatch' });
	});

	test('names and types we do not know make no claim', () => {
		expect(checkClaim(mp4, 'recording', 'application/octet-stream')).toEqual({ ok: true });
		expect(checkClaim(png, 'scan.tiff', null)).toEqual({ ok: true });
	});
});
