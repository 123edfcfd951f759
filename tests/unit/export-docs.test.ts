import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHAT_COLUMNS } from '../../src/lib/server/export/chat';
import { EVENT_COLUMNS } from '../../src/lib/server/export/events';
import { PARTICIPANTS_COLUMNS } from '../../src/lib/server/export/participants';
import { RESPONSE_COLUMNS } from '../../src/lib/server/export/responses';
import { TELEMETRY_COLUMNS } from '../../src/lib/server/export/telemetry';
import { WIDE_PARTICIPANT_COLUMNS } from '../../src/lib/server/export/wide';

// docs/DATA.md documents every fixed column of every dataset (the wide stage columns are
// described by pattern), so the documentation cannot silently fall behind the code.
test('docs/DATA.md names every column of every dataset', () => {
	const doc = readFileSync(resolve(import.meta.dir, '../../docs/DATA.md'), 'utf8');
	const sections = {
		events: EVENT_COLUMNS,
		responses: RESPONSE_COLUMNS,
		wide: WIDE_PARTICIPANT_COLUMNS,
		telemetry: TELEMETRY_COLUMNS,
		chat: CHAT_COLUMNS,
		participants: PARTICIPANTS_COLUMNS
	};
	for (const [dataset, columns] of Object.entries(sections)) {
		const start = doc.indexOf(`### ${dataset}\n`);
		expect(start, `a "### ${dataset}" section`).toBeGreaterThan(-1);
		const next = doc.indexOf('\n## ', start);
		const section = doc.slice(start, next === -1 ? undefined : next);
		const nextDataset = section.indexOf('\n### ', 1);
		const own = nextDataset === -1 ? section : section.slice(0, nextDataset);
		const missing = columns.filter((column) => !own.includes(`| \`${column.name}\``));
		expect({ dataset, missing: missing.map((c) => c.name) }).toEqual({ dataset, missing: [] });
	}
});
