import { test } from '@playwright/test';
import { runCoherenceSession } from './support/coherence';

// The group-coherence template from its study link with real browsers on one server: two
// participants with (simulated) Bluetooth heart-rate straps, a scheduled cohort, the live group
// coherence and the completion code. The same story runs on three replicas in cluster.e2e.ts.

test('a scheduled cohort breathes together and sees its live group coherence', async ({
	browser
}, testInfo) => {
	test.setTimeout(150_000);
	await runCoherenceSession(browser, testInfo.project.use.baseURL!);
});
