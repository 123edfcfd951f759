/**
 * How tests find the external services. Without them a suite is skipped, loudly; with
 * CI=true a missing service is a failure, never a skip.
 */

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

export type ServiceAvailability = { available: true; url: string } | { available: false };

const announced = new Set<string>();
const EXAMPLES = {
	TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
	TEST_REDIS_URL: 'redis://127.0.0.1:6379'
};

/** Reads a service URL from the environment, failing under CI when it is missing. */
export function requireService(
	variable: 'TEST_DATABASE_URL' | 'TEST_REDIS_URL',
	suite: string
): ServiceAvailability {
	const url = process.env[variable]?.trim();
	if (url) return { available: true, url };
	if (isCI) {
		throw new Error(
			`${variable} is not set, but CI=true: the ${suite} suite must run against a real service.`
		);
	}
	if (!announced.has(variable)) {
		announced.add(variable);
		console.warn(
			`\n!!! SKIPPED: ${suite} — set ${variable} to run it (e.g. ${EXAMPLES[variable]}).\n`
		);
	}
	return { available: false };
}
