/** Media helpers shared by the media tests and `bench/media.ts`. */

/** A WAV file of `bytes` bytes of 48 kHz stereo 16-bit noise: sniffable and probeable. */
export async function writeWav(path: string, bytes: number): Promise<void> {
	const dataBytes = bytes - 44;
	const header = Buffer.alloc(44);
	header.write('RIFF', 0);
	header.writeUInt32LE(36 + dataBytes, 4);
	header.write('WAVEfmt ', 8);
	header.writeUInt32LE(16, 16);
	header.writeUInt16LE(1, 20); // PCM
	header.writeUInt16LE(2, 22); // stereo
	header.writeUInt32LE(48_000, 24);
	header.writeUInt32LE(48_000 * 4, 28);
	header.writeUInt16LE(4, 32);
	header.writeUInt16LE(16, 34);
	header.write('data', 36);
	header.writeUInt32LE(dataBytes, 40);
	const writer = Bun.file(path).writer();
	await writer.write(header);
	const chunk = new Uint8Array(1024 * 1024);
	crypto.getRandomValues(chunk.subarray(0, 65_536));
	for (let offset = 65_536; offset < chunk.length; offset += 65_536) {
		chunk.copyWithin(offset, 0, 65_536);
	}
	for (let written = 0; written < dataBytes; written += chunk.length) {
		await writer.write(chunk.subarray(0, Math.min(chunk.length, dataBytes - written)));
	}
	await writer.end();
}

/** Resident memory of a process now (VmRSS), in MiB. (VmHWM would show PGlite's boot peak.) */
export async function residentMiB(pid: number): Promise<number> {
	const status = await Bun.file(`/proc/${pid}/status`).text();
	const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
	return kib / 1024;
}
