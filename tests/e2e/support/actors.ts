import type { Browser, BrowserContext, Page } from '@playwright/test';

/** A person with their own browser context (their own cookies), as on their own machine. */
export type Actor = { context: BrowserContext; page: Page; cspErrors: string[] };

/**
 * Opens a browser context for one person and records every Content Security Policy violation
 * the browser reports in it. The actor is added to `registry` so the spec can check and close
 * them all at the end.
 */
export async function openActor(
	browser: Browser,
	baseURL: string,
	registry: Actor[]
): Promise<Actor> {
	const context = await browser.newContext({ baseURL });
	const cspErrors: string[] = [];
	context.on('console', (message) => {
		if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
			cspErrors.push(message.text());
		}
	});
	const actor = { context, page: await context.newPage(), cspErrors };
	registry.push(actor);
	return actor;
}
