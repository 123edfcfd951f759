import { existsSync } from 'node:fs';
import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';

/**
 * End-to-end tests against the production build (`build/server.js`), never `vite dev`: the
 * Origin check, CSP nonces and cookies behave as they do for real users. The test command
 * builds first; this file only starts the built server.
 *
 * Specs are named `*.e2e.ts` so `bun test` (unit and integration) never picks them up.
 */

/** Debian's Chromium when present; otherwise Playwright's own browser. */
const chromiumPath =
	process.env.PLAYWRIGHT_CHROMIUM_PATH ||
	(existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

// Refuse to start with a clear message rather than "Process from config.webServer was not able
// to start" when nobody has built yet.
const requireBuild =
	'test -f build/server.js || { echo "build/server.js is missing: run \\"bun run build\\" before the e2e tests" >&2; exit 1; }';

/**
 * The built servers listen on consecutive ports from 4173. E2E_PORT_BASE moves them all, so two
 * checkouts on one machine can run their browser tests at the same time.
 */
const PORT_BASE = Number(process.env.E2E_PORT_BASE || 4173);
const port = (index: number) => PORT_BASE + index;
const url = (index: number) => `http://127.0.0.1:${port(index)}`;

type WebServer = Extract<NonNullable<PlaywrightTestConfig['webServer']>, unknown[]>[number];

/**
 * One built server on its own port with a fresh PGlite directory, so every run starts before
 * first-run setup. Everything the server reads is set here so a developer's shell or `.env`
 * (Bun loads it by default, hence `--no-env-file`) cannot leak in.
 */
function builtServer(name: string, port: number, env: Record<string, string> = {}): WebServer {
	const origin = `http://127.0.0.1:${port}`;
	const dataDir = `.test-output/e2e/${name}`;
	return {
		name,
		command: `${requireBuild} && rm -rf ${dataDir} && bun --no-env-file build/server.js`,
		url: `${origin}/readyz`,
		reuseExistingServer: false,
		timeout: 60_000,
		// SIGTERM lets the server close PGlite cleanly instead of being killed mid-write.
		gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
		env: {
			PORT: String(port),
			HOST: '127.0.0.1',
			// Must equal the URL the browser uses: links and the Origin check derive from it.
			ORIGIN: origin,
			ALLOWED_ORIGINS: '',
			DATA_DIR: dataDir,
			// Empty means unset: always PGlite, never a developer's Postgres.
			DATABASE_URL: '',
			ALLOW_SIGNUP: 'false',
			SESSION_IDLE_TIMEOUT: '30m',
			SESSION_MAX_LIFETIME: '12h',
			LOG_LEVEL: 'warn',
			...env
		}
	};
}

export default defineConfig({
	testDir: 'tests/e2e',
	testMatch: '**/*.e2e.ts',
	outputDir: 'test-results',
	// Two cores: one worker, files in order; each spec is a serial story anyway.
	workers: 1,
	fullyParallel: false,
	retries: 0,
	forbidOnly: !!process.env.CI,
	reporter: [['list'], ['json', { outputFile: '.test-output/playwright.json' }]],
	use: {
		browserName: 'chromium',
		screenshot: 'only-on-failure',
		launchOptions: {
			executablePath: chromiumPath,
			args: [
				'--no-sandbox',
				'--headless',
				'--disable-gpu',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run',
				'--disable-quic'
			]
		}
	},
	webServer: [
		builtServer('main', port(0)),
		// A 3 s inactivity limit so the expiry spec sees a session lapse within seconds.
		builtServer('expiry', port(1), { SESSION_IDLE_TIMEOUT: '3s' }),
		builtServer('realtime', port(2)),
		builtServer('designer', port(3)),
		builtServer('media', port(4)),
		builtServer('journey', port(5)),
		builtServer('open-room', port(6)),
		builtServer('coherence', port(7)),
		builtServer('video-sync', port(8)),
		// LiveKit settings so conversation stages publish, pointing at a port nobody listens on.
		builtServer('conversation', port(9), {
			LIVEKIT_URL: 'ws://127.0.0.1:9',
			LIVEKIT_API_KEY: 'devkey',
			LIVEKIT_API_SECRET: 'secret-secret-secret-secret-123'
		}),
		builtServer('monitor', port(10)),
		builtServer('data', port(11))
	],
	projects: [
		{
			name: 'accounts',
			testMatch: 'accounts.e2e.ts',
			use: { baseURL: url(0) }
		},
		{
			name: 'expiry',
			testMatch: 'expiry.e2e.ts',
			use: { baseURL: url(1) }
		},
		{
			name: 'realtime',
			testMatch: 'realtime.e2e.ts',
			use: { baseURL: url(2) }
		},
		{
			name: 'designer',
			testMatch: 'designer.e2e.ts',
			use: { baseURL: url(3) }
		},
		{
			name: 'media',
			testMatch: 'media.e2e.ts',
			use: { baseURL: url(4) }
		},
		{
			name: 'journey',
			testMatch: /(journey|journey-refusals|resume|link-params)\.e2e\.ts$/,
			use: { baseURL: url(5) }
		},
		{
			// Shares the journey server: its own studies, its own participants.
			name: 'limits',
			testMatch: 'limits.e2e.ts',
			use: { baseURL: url(5) }
		},
		{
			name: 'open-room',
			testMatch: 'open-room.e2e.ts',
			use: { baseURL: url(6) }
		},
		{
			name: 'coherence',
			testMatch: 'coherence.e2e.ts',
			use: { baseURL: url(7) }
		},
		{
			name: 'video-sync',
			testMatch: 'video-sync.e2e.ts',
			use: { baseURL: url(8) }
		},
		{
			name: 'conversation',
			testMatch: 'conversation.e2e.ts',
			use: {
				baseURL: url(9),
				// The top-level flags, plus a fake camera and microphone allowed without a prompt.
				launchOptions: {
					executablePath: chromiumPath,
					args: [
						'--no-sandbox',
						'--headless',
						'--disable-gpu',
						'--disable-background-networking',
						'--disable-component-update',
						'--disable-sync',
						'--no-first-run',
						'--disable-quic',
						'--use-fake-device-for-media-stream',
						'--use-fake-ui-for-media-stream'
					]
				}
			}
		},
		{
			name: 'monitor',
			testMatch: 'monitor.e2e.ts',
			use: { baseURL: url(10) }
		},
		{
			name: 'data',
			testMatch: /(data|replay)\.e2e\.ts$/,
			use: { baseURL: url(11) }
		},
		{
			// Starts its own three replicas and HAProxy (Postgres and Redis from TEST_*_URL).
			name: 'cluster',
			testMatch: 'cluster.e2e.ts'
		}
	]
});
