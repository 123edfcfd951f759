/**
 * The whole test suite in one command (`bun run test`): static checks, the production build,
 * unit + integration tests (bun test), then the browser tests (Playwright against the built
 * server). Every step runs even if an earlier one failed, except that the tests need the build.
 * Ends with a summary and a single pass/fail line.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const OUTPUT = '.test-output';
const JUNIT = `${OUTPUT}/bun-junit.xml`;
const PLAYWRIGHT_JSON = `${OUTPUT}/playwright.json`;

type Counts = { passed: number; failed: number; skipped: number };
type StepResult = {
	name: string;
	ok: boolean;
	seconds: number;
	counts?: Counts;
	skippedBecause?: string;
};

async function run(name: string, command: string[]): Promise<{ ok: boolean; seconds: number }> {
	console.log(`\n━━━ ${name}: ${command.join(' ')}`);
	const started = performance.now();
	const child = Bun.spawn(command, { stdout: 'inherit', stderr: 'inherit', stdin: 'ignore' });
	const code = await child.exited;
	return { ok: code === 0, seconds: (performance.now() - started) / 1000 };
}

function readJunitCounts(): Counts | undefined {
	if (!existsSync(JUNIT)) return undefined;
	const head = /<testsuites[^>]*>/.exec(readFileSync(JUNIT, 'utf8'))?.[0] ?? '';
	const attribute = (name: string) => Number(new RegExp(`${name}="(\\d+)"`).exec(head)?.[1] ?? 0);
	const tests = attribute('tests');
	const failed = attribute('failures');
	const skipped = attribute('skipped');
	return { passed: tests - failed - skipped, failed, skipped };
}

function readPlaywrightCounts(): Counts | undefined {
	if (!existsSync(PLAYWRIGHT_JSON)) return undefined;
	const report = JSON.parse(readFileSync(PLAYWRIGHT_JSON, 'utf8')) as {
		stats?: { expected?: number; unexpected?: number; flaky?: number; skipped?: number };
	};
	const stats = report.stats ?? {};
	return {
		passed: stats.expected ?? 0,
		failed: (stats.unexpected ?? 0) + (stats.flaky ?? 0),
		skipped: stats.skipped ?? 0
	};
}

rmSync(OUTPUT, { recursive: true, force: true });
mkdirSync(OUTPUT, { recursive: true });
const suiteStarted = performance.now();
const results: StepResult[] = [];

results.push({
	name: 'check (svelte-check, eslint, prettier)',
	...(await run('check', ['bun', 'run', 'check']))
});

const build = await run('build', ['bun', 'run', 'build']);
results.push({ name: 'build', ...build });

if (build.ok) {
	const unit = await run('unit + integration', [
		'bun',
		'test',
		'--timeout=30000',
		'--reporter=junit',
		`--reporter-outfile=${JUNIT}`
	]);
	results.push({ name: 'unit + integration (bun test)', ...unit, counts: readJunitCounts() });
	const e2e = await run('e2e', ['bunx', 'playwright', 'test']);
	results.push({ name: 'e2e (Playwright, built server)', ...e2e, counts: readPlaywrightCounts() });
} else {
	for (const name of ['unit + integration (bun test)', 'e2e (Playwright, built server)']) {
		results.push({ name, ok: false, seconds: 0, skippedBecause: 'the build failed' });
	}
}

const total: Counts = { passed: 0, failed: 0, skipped: 0 };
console.log('\n━━━ Summary');
for (const result of results) {
	const counts = result.counts
		? ` — ${result.counts.passed} passed, ${result.counts.failed} failed, ${result.counts.skipped} skipped`
		: '';
	const note = result.skippedBecause ? ` — not run: ${result.skippedBecause}` : '';
	console.log(
		`${result.ok ? 'PASS' : 'FAIL'}  ${result.name} (${result.seconds.toFixed(1)} s)${counts}${note}`
	);
	if (result.counts) {
		total.passed += result.counts.passed;
		total.failed += result.counts.failed;
		total.skipped += result.counts.skipped;
	}
}
const ok = results.every((result) => result.ok);
console.log(`Wall time: ${((performance.now() - suiteStarted) / 1000).toFixed(1)} s`);
console.log(ok ? 'RESULT: PASS' : 'RESULT: FAIL');
// A failing step without test counts (check, build) still counts as one failure.
const failed = Math.max(total.failed, ok ? 0 : 1);
console.log(`tests: ${total.passed} passed, ${failed} failed, ${total.skipped} skipped`);
process.exit(ok ? 0 : 1);
