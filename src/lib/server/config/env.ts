import { hostname } from 'node:os';
import * as v from 'valibot';
import { parseByteSize, parseDuration } from './duration';

/**
 * Every environment variable Ensemble reads, parsed once at boot.
 * `.env.example` documents each one; keep the two in step.
 */

const duration = (example: string) =>
	v.pipe(
		v.string(),
		v.transform((text) => parseDuration(text)),
		v.number(`expected a duration like ${example} (units: ms, s, m, h, d)`)
	);

const byteSize = v.pipe(
	v.string(),
	v.transform((text) => parseByteSize(text)),
	v.number('expected a size like 512K, 1M or 1048576')
);

const integer = (min: number, max: number) =>
	v.pipe(
		v.string(),
		v.regex(/^\d+$/, 'expected a whole number'),
		v.transform(Number),
		v.minValue(min, `expected at least ${min}`),
		v.maxValue(max, `expected at most ${max}`)
	);

const boolean = v.pipe(
	v.picklist(['true', 'false', '1', '0', 'yes', 'no'], 'expected true or false'),
	v.transform((text) => text === 'true' || text === '1' || text === 'yes')
);

/** An origin is scheme + host + optional port, nothing else. */
const origin = v.pipe(
	v.string(),
	v.check((text) => {
		try {
			const url = new URL(text);
			return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
		} catch {
			return false;
		}
	}, 'expected an origin like https://ensemble.example.org (scheme and host, no path or trailing slash)')
);

const originList = v.pipe(
	v.string(),
	v.transform((text) =>
		text
			.split(',')
			.map((part) => part.trim())
			.filter(Boolean)
	),
	v.array(origin)
);

const postgresUrl = v.pipe(
	v.string(),
	v.regex(/^postgres(ql)?:\/\/.+/, 'expected a postgres:// or postgresql:// connection URL')
);

const redisUrl = v.pipe(
	v.string(),
	v.regex(/^rediss?:\/\/.+/, 'expected a redis:// or rediss:// connection URL')
);

const EnvSchema = v.object({
	PORT: v.optional(integer(1, 65_535), '3000'),
	HOST: v.optional(v.pipe(v.string(), v.nonEmpty()), '127.0.0.1'),
	ORIGIN: v.optional(origin),
	ALLOWED_ORIGINS: v.optional(originList, ''),
	DATA_DIR: v.optional(v.pipe(v.string(), v.nonEmpty()), './data'),
	DATABASE_URL: v.optional(postgresUrl),
	REDIS_URL: v.optional(redisUrl),
	REPLICA_ID: v.optional(
		v.pipe(
			v.string(),
			v.regex(/^[\w.-]{1,64}$/, 'expected letters, digits, dot, dash or underscore')
		)
	),
	REALTIME_REPLAY_LIMIT: v.optional(integer(1, 1_000_000), '5000'),
	SOCKETS_PER_PARTICIPANT: v.optional(integer(1, 100), '1'),
	SOCKETS_PER_TICKET: v.optional(integer(1, 100), '1'),
	SOCKETS_PER_SESSION: v.optional(integer(1, 100), '4'),
	SOCKET_UPGRADES_PER_MINUTE: v.optional(integer(1, 1_000_000), '120'),
	SESSION_IDLE_TIMEOUT: v.optional(duration('30m'), '30m'),
	SESSION_MAX_LIFETIME: v.optional(duration('12h'), '12h'),
	ALLOW_SIGNUP: v.optional(boolean, 'false'),
	PASSWORD_HASH_CONCURRENCY: v.optional(integer(1, 32), '2'),
	BODY_SIZE_LIMIT: v.optional(byteSize, '2M'),
	ADDRESS_HEADER: v.optional(v.string()),
	XFF_DEPTH: v.optional(integer(1, 10), '1'),
	SHUTDOWN_TIMEOUT: v.optional(duration('10s'), '10s'),
	LOG_LEVEL: v.optional(
		v.picklist(['debug', 'info', 'warn', 'error'], 'expected debug, info, warn or error'),
		'info'
	),
	MEDIA_MAX_SIZE: v.optional(byteSize, '2G'),
	S3_BUCKET: v.optional(v.string()),
	S3_ENDPOINT: v.optional(v.pipe(v.string(), v.url('expected a URL like https://s3.example.org'))),
	S3_REGION: v.optional(v.string()),
	S3_ACCESS_KEY_ID: v.optional(v.string()),
	S3_SECRET_ACCESS_KEY: v.optional(v.string()),
	LIVEKIT_URL: v.optional(
		v.pipe(
			v.string(),
			v.regex(/^(wss?|https?):\/\/.+/, 'expected a URL like wss://livekit.example.org')
		)
	),
	LIVEKIT_API_KEY: v.optional(v.string()),
	LIVEKIT_API_SECRET: v.optional(v.string())
});

export type Env = {
	port: number;
	host: string;
	/** The public origin participants and experimenters use; links and cookies derive from it. */
	origin: string;
	/** Origins allowed to send state-changing requests (the public origin is always included). */
	allowedOrigins: ReadonlySet<string>;
	secureCookies: boolean;
	dataDir: string;
	databaseUrl: string | undefined;
	redisUrl: string | undefined;
	/** Names this process among replicas (logs, bus origin tags). */
	replicaId: string;
	/** A reconnecting client further behind than this many events gets a snapshot. */
	realtimeReplayLimit: number;
	/**
	 * Sockets one identity may hold on this replica (room sockets; dashboards count per session
	 * on their own): the newest wins, older ones close with 4410.
	 */
	socketCaps: { perParticipant: number; perTicket: number; perSession: number };
	/** Socket upgrades per client address: a burst of this many, then this many a minute. */
	socketUpgradesPerMinute: number;
	sessionIdleTimeoutMs: number;
	sessionMaxLifetimeMs: number;
	allowSignup: boolean;
	passwordHashConcurrency: number;
	bodySizeLimit: number;
	addressHeader: string | undefined;
	xffDepth: number;
	shutdownTimeoutMs: number;
	logLevel: 'debug' | 'info' | 'warn' | 'error';
	/** Largest accepted media upload, in bytes. */
	mediaMaxSize: number;
	/** S3-compatible media storage; null stores media under `DATA_DIR/media`. */
	s3: S3Settings | null;
	/** LiveKit (audio/video); null when not configured, and A/V stages are refused. */
	livekit: LiveKitSettings | null;
};

export type S3Settings = {
	bucket: string;
	endpoint: string | undefined;
	region: string | undefined;
	accessKeyId: string | undefined;
	secretAccessKey: string | undefined;
};

export type LiveKitSettings = { url: string; apiKey: string; apiSecret: string };

export type EnvResult = { ok: true; env: Env } | { ok: false; problems: string[] };

/**
 * Parses configuration from an environment map. Empty strings count as unset, so a
 * `.env` line like `DATABASE_URL=` means "use the default".
 */
export function parseEnv(source: Record<string, string | undefined>): EnvResult {
	const input: Record<string, string> = {};
	for (const key of Object.keys(EnvSchema.entries)) {
		const value = source[key];
		if (value !== undefined && value.trim() !== '') input[key] = value.trim();
	}
	const result = v.safeParse(EnvSchema, input);
	if (!result.success) {
		const problems = result.issues.map((issue) => {
			const name = issue.path?.[0]?.key ?? 'environment';
			const got = typeof issue.input === 'string' ? ` (got "${issue.input}")` : '';
			return `${String(name)}: ${issue.message}${got}`;
		});
		return { ok: false, problems };
	}
	const raw = result.output;
	const origin = raw.ORIGIN ?? `http://localhost:${raw.PORT}`;
	// Unconfigured, the app is reached on this machine under any of its loopback names.
	const loopback = raw.ORIGIN ? [] : [`http://127.0.0.1:${raw.PORT}`, `http://[::1]:${raw.PORT}`];
	const livekitParts = [raw.LIVEKIT_URL, raw.LIVEKIT_API_KEY, raw.LIVEKIT_API_SECRET];
	const livekitSet = livekitParts.filter(Boolean).length;
	if (livekitSet > 0 && livekitSet < 3) {
		return {
			ok: false,
			problems: ['LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET: set all three or none']
		};
	}
	if (raw.SESSION_IDLE_TIMEOUT > raw.SESSION_MAX_LIFETIME) {
		return {
			ok: false,
			problems: ['SESSION_IDLE_TIMEOUT: must not be longer than SESSION_MAX_LIFETIME']
		};
	}
	return {
		ok: true,
		env: {
			port: raw.PORT,
			host: raw.HOST,
			origin,
			allowedOrigins: new Set([origin, ...loopback, ...raw.ALLOWED_ORIGINS]),
			secureCookies: origin.startsWith('https:'),
			dataDir: raw.DATA_DIR,
			databaseUrl: raw.DATABASE_URL,
			redisUrl: raw.REDIS_URL,
			replicaId: raw.REPLICA_ID ?? `${hostname()}-${process.pid}`,
			realtimeReplayLimit: raw.REALTIME_REPLAY_LIMIT,
			socketCaps: {
				perParticipant: raw.SOCKETS_PER_PARTICIPANT,
				perTicket: raw.SOCKETS_PER_TICKET,
				perSession: raw.SOCKETS_PER_SESSION
			},
			socketUpgradesPerMinute: raw.SOCKET_UPGRADES_PER_MINUTE,
			sessionIdleTimeoutMs: raw.SESSION_IDLE_TIMEOUT,
			sessionMaxLifetimeMs: raw.SESSION_MAX_LIFETIME,
			allowSignup: raw.ALLOW_SIGNUP,
			passwordHashConcurrency: raw.PASSWORD_HASH_CONCURRENCY,
			bodySizeLimit: raw.BODY_SIZE_LIMIT,
			addressHeader: raw.ADDRESS_HEADER?.toLowerCase(),
			xffDepth: raw.XFF_DEPTH,
			shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT,
			logLevel: raw.LOG_LEVEL,
			mediaMaxSize: raw.MEDIA_MAX_SIZE,
			s3: raw.S3_BUCKET
				? {
						bucket: raw.S3_BUCKET,
						endpoint: raw.S3_ENDPOINT,
						region: raw.S3_REGION,
						accessKeyId: raw.S3_ACCESS_KEY_ID,
						secretAccessKey: raw.S3_SECRET_ACCESS_KEY
					}
				: null,
			livekit:
				raw.LIVEKIT_URL && raw.LIVEKIT_API_KEY && raw.LIVEKIT_API_SECRET
					? { url: raw.LIVEKIT_URL, apiKey: raw.LIVEKIT_API_KEY, apiSecret: raw.LIVEKIT_API_SECRET }
					: null
		}
	};
}

/** Formats parse problems as the message printed before exiting. */
export function describeEnvProblems(problems: string[]): string {
	return `Invalid configuration (see .env.example):\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}

const ENV_KEY = Symbol.for('ensemble.env');
type EnvGlobal = { [ENV_KEY]?: Env };

/**
 * The process-wide configuration. Throws with every problem named if the environment is
 * invalid. Cached on `globalThis` because the Bun entry and the SvelteKit bundle load
 * separate copies of this module.
 */
export function getEnv(): Env {
	const store = globalThis as EnvGlobal;
	const cached = store[ENV_KEY];
	if (cached) return cached;
	const result = parseEnv(process.env);
	if (!result.ok) throw new Error(describeEnvProblems(result.problems));
	store[ENV_KEY] = result.env;
	return result.env;
}
