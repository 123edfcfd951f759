import { PGlite } from '@electric-sql/pglite';
import { afterAll, expect, spyOn, test } from 'bun:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { log, withholdParameters } from '../../src/lib/server/log';

let client: PGlite | undefined;
afterAll(() => client?.close());

test("a failed query's parameters never reach a log line", async () => {
	client = new PGlite();
	const db = drizzle(client);
	let failure: unknown;
	try {
		await db.execute(sql`select ${'participant said\u0000 something'}::text`);
	} catch (error) {
		failure = error;
	}
	const message = (failure as Error).message;
	// Drizzle puts the parameters in the message: exactly what must not be logged.
	expect(message).toContain('participant said');
	const lines: string[] = [];
	const spy = spyOn(console, 'error').mockImplementation(
		(line: unknown) => void lines.push(String(line))
	);
	try {
		log.error('test.query_failed', { error: message });
	} finally {
		spy.mockRestore();
	}
	expect(lines).toHaveLength(1);
	expect(lines[0]).toContain('Failed query: select $1::text (parameters withheld)');
	expect(lines[0]).not.toContain('participant said');
	expect(withholdParameters('plain message')).toBe('plain message');
}, 60_000);
