import { describe, expect, test } from 'bun:test';
import { describeEnvProblems, parseEnv } from '../../src/lib/server/config/env';

describe('parseEnv', () => {
	test('defaults serve the embedded mode', () => {
		const result = parseEnv({});
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.env.port).toBe(3000);
		expect(result.env.origin).toBe('http://localhost:3000');
		expect(result.env.dataDir).toBe('./data');
		expect(result.env.databaseUrl).toBeUndefined();
		expect(result.env.sessionIdleTimeoutMs).toBe(30 * 60_000);
		expect(result.env.sessionMaxLifetimeMs).toBe(12 * 3_600_000);
		expect(result.env.allowSignup).toBe(false);
		expect(result.env.secureCookies).toBe(false);
		// Unconfigured, every loopback name of this machine is an allowed origin.
		expect([...result.env.allowedOrigins]).toEqual([
			'http://localhost:3000',
			'http://127.0.0.1:3000',
			'http://[::1]:3000'
		]);
	});

	test('reads every documented setting', () => {
		const result = parseEnv({
			PORT: '8080',
			ORIGIN: 'https://ensemble.example.org',
			ALLOWED_ORIGINS: 'https://a.example.org, https://b.example.org',
			DATABASE_URL: 'postgres://u:p@db:5432/ensemble',
			SESSION_IDLE_TIMEOUT: '15m',
			SESSION_MAX_LIFETIME: '8h',
			ALLOW_SIGNUP: 'true',
			PASSWORD_HASH_CONCURRENCY: '4',
			BODY_SIZE_LIMIT: '2M',
			LOG_LEVEL: 'debug'
		});
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.env.port).toBe(8080);
		expect(result.env.secureCookies).toBe(true);
		expect(result.env.allowedOrigins.has('https://b.example.org')).toBe(true);
		expect(result.env.allowedOrigins.has('https://ensemble.example.org')).toBe(true);
		expect(result.env.allowedOrigins.has('http://127.0.0.1:8080')).toBe(false);
		expect(result.env.sessionIdleTimeoutMs).toBe(15 * 60_000);
		expect(result.env.bodySizeLimit).toBe(2 * 1024 * 1024);
		expect(result.env.passwordHashConcurrency).toBe(4);
		expect(result.env.allowSignup).toBe(true);
	});

	test('empty values count as unset', () => {
		const result = parseEnv({ DATABASE_URL: '', PORT: '  ' });
		expect(result.ok && result.env.databaseUrl).toBeUndefined();
		expect(result.ok && result.env.port).toBe(3000);
	});

	test('names each bad variable and what is wrong', () => {
		const result = parseEnv({
			PORT: 'eighty',
			SESSION_IDLE_TIMEOUT: 'soon',
			ORIGIN: 'https://example.org/path',
			DATABASE_URL: 'mysql://x',
			LOG_LEVEL: 'loud'
		});
		expect(result.ok).toBe(false);
		if (result.ok) return;
		const message = describeEnvProblems(result.problems);
		expect(message).toContain('PORT: expected a whole number (got "eighty")');
		expect(message).toContain('SESSION_IDLE_TIMEOUT: expected a duration like 30m');
		expect(message).toContain('ORIGIN: expected an origin');
		expect(message).toContain('DATABASE_URL: expected a postgres://');
		expect(message).toContain('LOG_LEVEL');
	});

	test('refuses an idle timeout longer than the lifetime', () => {
		const result = parseEnv({ SESSION_IDLE_TIMEOUT: '13h', SESSION_MAX_LIFETIME: '12h' });
		expect(result.ok).toBe(false);
		expect(!result.ok && result.problems[0]).toContain('SESSION_IDLE_TIMEOUT');
	});

	test('media, S3 and LiveKit: defaults, and LiveKit only as a complete set', () => {
		const defaults = parseEnv({});
		expect(defaults.ok && defaults.env.mediaMaxSize).toBe(2 * 1024 ** 3);
		expect(defaults.ok && defaults.env.bodySizeLimit).toBe(2 * 1024 ** 2);
		expect(defaults.ok && defaults.env.s3).toBeNull();
		expect(defaults.ok && defaults.env.livekit).toBeNull();

		const partial = parseEnv({ LIVEKIT_URL: 'wss://lk.example.org', LIVEKIT_API_KEY: 'key' });
		expect(partial.ok).toBe(false);
		expect(!partial.ok && partial.problems[0]).toContain('set all three or none');

		const full = parseEnv({
			LIVEKIT_URL: 'wss://lk.example.org',
			LIVEKIT_API_KEY: 'key',
			LIVEKIT_API_SECRET: 'secret',
			S3_BUCKET: 'media',
			MEDIA_MAX_SIZE: '500M'
		});
		expect(full.ok && full.env.livekit).toEqual({
			url: 'wss://lk.example.org',
			apiKey: 'key',
			apiSecret: 'secret'
		});
		expect(full.ok && full.env.s3?.bucket).toBe('media');
		expect(full.ok && full.env.mediaMaxSize).toBe(500 * 1024 ** 2);
		expect(parseEnv({ LIVEKIT_URL: 'ftp://x' }).ok).toBe(false);
	});

	test('the app refuses to boot with a clear message', () => {
		const child = Bun.spawnSync(['bun', 'src/server.ts'], {
			env: { ...process.env, PORT: '99999', DATA_DIR: '/nonexistent-never-created' },
			stdout: 'pipe',
			stderr: 'pipe'
		});
		expect(child.exitCode).toBe(1);
		expect(child.stderr.toString()).toContain('PORT: expected at most 65535');
	});
});
