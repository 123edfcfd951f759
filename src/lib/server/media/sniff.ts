import type { MediaKind } from '../db/schema/media';

/**
 * What the first bytes of an upload say it is. We trust bytes, never names: the sniffed type is
 * what we store and serve.
 */
export type SniffedMedia = { kind: MediaKind; contentType: string };

/**
 * How many leading bytes `sniffMedia` looks at. Enough for every signature below (an EBML
 * header, a few Ogg BOS pages, an ftyp box with its brands); an ID3 tag can be longer, which
 * only matters for the rare FLAC file with an ID3 prefix.
 */
export const SNIFF_BYTES = 4096;

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
	String.fromCharCode(...bytes.subarray(start, start + length));

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0): boolean =>
	bytes.length >= offset + signature.length &&
	signature.every((byte, index) => bytes[offset + index] === byte);

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const EBML = [0x1a, 0x45, 0xdf, 0xa3];

/** Major or compatible brands of an ISO BMFF `ftyp` box, and what they mean. */
const AUDIO_MP4_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B ']);
const QUICKTIME_BRANDS = new Set(['qt  ']);
const VIDEO_MP4_BRANDS = new Set([
	'isom',
	'iso2',
	'iso3',
	'iso4',
	'iso5',
	'iso6',
	'iso8',
	'iso9',
	'mp41',
	'mp42',
	'mp71',
	'avc1',
	'dash',
	'msnv',
	'M4V ',
	'M4VH',
	'M4VP',
	'F4V ',
	'F4P ',
	'MSNV',
	'NDAS',
	'mmp4'
]);
/** Classic QuickTime files may start with one of these atoms instead of `ftyp`. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

function sniffIsoBmff(head: Uint8Array): SniffedMedia | null {
	if (head.length < 12) return null;
	const boxType = ascii(head, 4, 4);
	if (boxType !== 'ftyp') {
		return QUICKTIME_ATOMS.has(boxType) ? { kind: 'video', contentType: 'video/quicktime' } : null;
	}
	const boxSize = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
	const major = ascii(head, 8, 4);
	const compatible: string[] = [];
	for (let offset = 16; offset + 4 <= Math.min(boxSize, head.length); offset += 4) {
		compatible.push(ascii(head, offset, 4));
	}
	if (QUICKTIME_BRANDS.has(major)) return { kind: 'video', contentType: 'video/quicktime' };
	if (AUDIO_MP4_BRANDS.has(major)) return { kind: 'audio', contentType: 'audio/mp4' };
	if (VIDEO_MP4_BRANDS.has(major)) return { kind: 'video', contentType: 'video/mp4' };
	// An unfamiliar major brand (3GPP, a camera vendor's) that declares MP4 compatibility plays
	// as MP4; HEIF/AVIF images do not, and are refused.
	if (
		compatible.some((brand) => VIDEO_MP4_BRANDS.has(brand)) &&
		!/^(hei|hev|mif|avi|msf)/.test(major)
	) {
		return { kind: 'video', contentType: 'video/mp4' };
	}
	return null;
}

/** Reads an EBML variable-length integer; `keepMarker` for element ids. */
function readVint(
	bytes: Uint8Array,
	offset: number,
	keepMarker: boolean
): { value: number; length: number } | null {
	const first = bytes[offset];
	if (first === undefined || first === 0) return null;
	const length = Math.clz32(first) - 23;
	if (length > 8 || offset + length > bytes.length) return null;
	let value = keepMarker ? first : first & (0xff >> length);
	for (let index = 1; index < length; index++) value = value * 256 + bytes[offset + index]!;
	return { value, length };
}

const EBML_DOCTYPE_ID = 0x4282;

function sniffMatroska(head: Uint8Array): SniffedMedia | null {
	if (!startsWith(head, EBML)) return null;
	const headerSize = readVint(head, 4, false);
	let docType: string | null = null;
	if (headerSize) {
		let offset = 4 + headerSize.length;
		const end = Math.min(head.length, offset + headerSize.value);
		while (offset < end) {
			const id = readVint(head, offset, true);
			if (!id) break;
			const size = readVint(head, offset + id.length, false);
			if (!size) break;
			const data = offset + id.length + size.length;
			if (id.value === EBML_DOCTYPE_ID) {
				docType = ascii(head, data, size.value).replace(/\0+$/, '');
				break;
			}
			offset = data + size.value;
		}
	}
	return docType === 'webm'
		? { kind: 'video', contentType: 'video/webm' }
		: { kind: 'video', contentType: 'video/x-matroska' };
}

const THEORA_HEADER = [0x80, ...'theora'.split('').map((c) => c.charCodeAt(0))];

/**
 * Ogg: video when one of the beginning-of-stream pages at the start carries a Theora header
 * (Theora usually comes first, but a skeleton or audio stream may precede it).
 */
function sniffOgg(head: Uint8Array): SniffedMedia | null {
	if (ascii(head, 0, 4) !== 'OggS') return null;
	let offset = 0;
	while (offset + 27 <= head.length && ascii(head, offset, 4) === 'OggS') {
		const beginsStream = (head[offset + 5]! & 0x02) !== 0;
		if (!beginsStream) break;
		const segments = head[offset + 26]!;
		if (offset + 27 + segments > head.length) break;
		let bodyLength = 0;
		for (let index = 0; index < segments; index++) bodyLength += head[offset + 27 + index]!;
		const body = offset + 27 + segments;
		if (startsWith(head, THEORA_HEADER, body)) return { kind: 'video', contentType: 'video/ogg' };
		offset = body + bodyLength;
	}
	return { kind: 'audio', contentType: 'audio/ogg' };
}

/** An MPEG audio frame header: sync, a valid version, layer, bitrate and sample rate. */
function isMpegAudioFrame(head: Uint8Array, offset = 0): boolean {
	if (head.length < offset + 4) return false;
	const [b0, b1, b2] = [head[offset]!, head[offset + 1]!, head[offset + 2]!];
	if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
	const version = (b1 >> 3) & 0x03;
	const layer = (b1 >> 1) & 0x03;
	const bitrate = b2 >> 4;
	const sampleRate = (b2 >> 2) & 0x03;
	// Layer 0 is ADTS (AAC), not MPEG audio.
	return version !== 1 && layer !== 0 && bitrate !== 0x0f && sampleRate !== 0x03;
}

function sniffId3(head: Uint8Array): SniffedMedia | null {
	if (ascii(head, 0, 3) !== 'ID3' || head.length < 10) return null;
	// The tag size is a 28-bit "synchsafe" integer; FLAC files occasionally carry an ID3 tag too.
	const size =
		((head[6]! & 0x7f) << 21) |
		((head[7]! & 0x7f) << 14) |
		((head[8]! & 0x7f) << 7) |
		(head[9]! & 0x7f);
	const footer = (head[5]! & 0x10) !== 0 ? 10 : 0;
	if (ascii(head, 10 + size + footer, 4) === 'fLaC') {
		return { kind: 'audio', contentType: 'audio/flac' };
	}
	return { kind: 'audio', contentType: 'audio/mpeg' };
}

/**
 * Identifies a supported media format from the first bytes of a file (see `SNIFF_BYTES`), or
 * null when the bytes are not one we accept. Pure; never looks at names or claimed types.
 */
export function sniffMedia(head: Uint8Array): SniffedMedia | null {
	if (startsWith(head, PNG)) return { kind: 'image', contentType: 'image/png' };
	if (startsWith(head, JPEG)) return { kind: 'image', contentType: 'image/jpeg' };
	const magic = ascii(head, 0, 6);
	if (magic === 'GIF87a' || magic === 'GIF89a') return { kind: 'image', contentType: 'image/gif' };
	if (ascii(head, 0, 4) === 'RIFF' && head.length >= 12) {
		const form = ascii(head, 8, 4);
		if (form === 'WEBP') return { kind: 'image', contentType: 'image/webp' };
		if (form === 'WAVE') return { kind: 'audio', contentType: 'audio/wav' };
		return null;
	}
	if (ascii(head, 0, 4) === 'fLaC') return { kind: 'audio', contentType: 'audio/flac' };
	return (
		sniffMatroska(head) ??
		sniffOgg(head) ??
		sniffIsoBmff(head) ??
		sniffId3(head) ??
		(isMpegAudioFrame(head) ? { kind: 'audio', contentType: 'audio/mpeg' } : null)
	);
}

/** Which kinds a name or a claimed type may hold; audio and video share containers. */
type ClaimedClass = 'image' | 'timed';

const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jpe', 'gif', 'webp']);
const TIMED_EXTENSIONS = new Set([
	'mp4',
	'm4v',
	'mov',
	'qt',
	'webm',
	'mkv',
	'ogv',
	'ogg',
	'oga',
	'opus',
	'mp3',
	'm4a',
	'm4b',
	'wav',
	'wave',
	'flac',
	'3gp'
]);

function classOf(kind: MediaKind): ClaimedClass {
	return kind === 'image' ? 'image' : 'timed';
}

function describeClass(value: ClaimedClass): string {
	return value === 'image' ? 'an image' : 'a video or audio file';
}

/** What the name and the claimed Content-Type say, when they say anything we recognise. */
function claimedClasses(filename: string, claimedType: string | null): ClaimedClass[] {
	const claims: ClaimedClass[] = [];
	const extension = /\.([a-z0-9]{1,5})$/i.exec(filename)?.[1]?.toLowerCase();
	if (extension && IMAGE_EXTENSIONS.has(extension)) claims.push('image');
	if (extension && TIMED_EXTENSIONS.has(extension)) claims.push('timed');
	const type = claimedType?.split(';')[0]?.trim().toLowerCase() ?? '';
	if (type.startsWith('image/')) claims.push('image');
	if (type.startsWith('video/') || type.startsWith('audio/')) claims.push('timed');
	return claims;
}

export type ClaimCheck =
	{ ok: true } | { ok: false; reason: 'unsupported_type' | 'mismatch'; message: string };

/** The formats we accept, for messages. */
export const ACCEPTED_FORMATS =
	'video (MP4, MOV, WebM, Matroska, Ogg), audio (MP3, M4A, WAV, FLAC, Ogg) or images (PNG, JPEG, GIF, WebP)';

/**
 * Checks the sniffed bytes against what the upload claimed (file extension, Content-Type).
 * Unknown bytes are refused, and so is an image posing as a video or the other way round. Audio
 * and video are interchangeable here (an `.mp4` may hold only sound), and a different container
 * of the same kind is accepted: a `.mp4` that is really WebM is served as WebM.
 */
export function checkClaim(
	sniffed: SniffedMedia | null,
	filename: string,
	claimedType: string | null
): ClaimCheck {
	const claims = claimedClasses(filename, claimedType);
	if (!sniffed) {
		const claimed = claims[0];
		return {
			ok: false,
			reason: 'unsupported_type',
			message: claimed
				? `“${filename}” is named or labelled as ${describeClass(claimed)}, but its contents are not a format we recognise. Accepted: ${ACCEPTED_FORMATS}.`
				: `“${filename}” is not a supported media file. Accepted: ${ACCEPTED_FORMATS}.`
		};
	}
	const actual = classOf(sniffed.kind);
	const contradicting = claims.find((claim) => claim !== actual);
	if (contradicting) {
		return {
			ok: false,
			reason: 'mismatch',
			message: `“${filename}” is named or labelled as ${describeClass(contradicting)}, but its contents are ${describeClass(actual)} (${sniffed.contentType}). Rename the file or upload the intended one.`
		};
	}
	return { ok: true };
}
