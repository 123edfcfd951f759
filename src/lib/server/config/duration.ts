const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a human duration such as `30m`, `12h`, `45s`, `1d` or `250ms` into milliseconds.
 * Returns `undefined` for anything else, so callers can say what was wrong.
 */
export function parseDuration(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
	if (!match) return undefined;
	const value = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
	return Number.isFinite(value) && value > 0 ? Math.round(value) : undefined;
}

const BYTE_UNITS = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as const;

/** Parses a byte size such as `512K`, `1M` or `1048576`. */
export function parseByteSize(text: string): number | undefined {
	const match = /^(\d+)\s*([KMG]?)B?$/i.exec(text.trim());
	if (!match) return undefined;
	const value = Number(match[1]) * BYTE_UNITS[match[2]!.toUpperCase() as keyof typeof BYTE_UNITS];
	return value > 0 ? value : undefined;
}
