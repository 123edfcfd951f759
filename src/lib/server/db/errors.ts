/**
 * Telling database errors apart. A statement the database refused for its content (a data
 * exception, an integrity or program-limit violation) rolled back: nothing was written, and
 * sending it again fails again, so the caller isolates the offender and refuses only that. Any
 * other failure (a lost connection, a timeout) leaves the outcome unknown and may pass.
 */

/** The SQLSTATE of a driver error; Drizzle wraps the driver's error in `cause`. */
export function findSqlState(error: unknown): string | undefined {
	const candidate = error as { code?: unknown; cause?: { code?: unknown } } | null;
	const code = candidate?.cause?.code ?? candidate?.code;
	return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const UNIQUE_VIOLATION = '23505';

/** A unique index refused a row (for the event log: a retried client command id). */
export function isUniqueViolation(error: unknown): boolean {
	return findSqlState(error) === UNIQUE_VIOLATION;
}

// SQLSTATE classes: 22 data exception (e.g. 22P05 a NUL in jsonb, 22021 a NUL in text, 22P02
// malformed JSON), 23 integrity constraint violation, 54 program limit exceeded (a row too big).
const CONTENT_CLASSES = new Set(['22', '23', '54']);

/** Whether the database refused the statement because of what it carried. */
export function isContentRefusal(error: unknown): boolean {
	const state = findSqlState(error);
	return state !== undefined && CONTENT_CLASSES.has(state.slice(0, 2));
}

/**
 * A description of a failure that is safe for logs. Database errors give their SQLSTATE or
 * driver code only: Drizzle's messages carry the statement's parameters, i.e. participants'
 * data. Other errors give the first line of their message, cut short.
 */
export function describeDatabaseError(error: unknown): string {
	const state = findSqlState(error);
	if (state) return `sqlstate ${state}`;
	const candidate = error as {
		name?: unknown;
		message?: unknown;
		code?: unknown;
		cause?: { code?: unknown };
	} | null;
	// Driver and socket codes (ECONNREFUSED, CONNECTION_CLOSED) say what happened, nothing more.
	const code = candidate?.cause?.code ?? candidate?.code;
	if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,39}$/.test(code)) return code;
	const name = typeof candidate?.name === 'string' ? candidate.name : '';
	const message = typeof candidate?.message === 'string' ? candidate.message : '';
	if (name === 'DrizzleQueryError' || message.startsWith('Failed query')) return 'query failed';
	const line = message.split('\n', 1)[0]!.slice(0, 200);
	return line || name || 'unknown error';
}
