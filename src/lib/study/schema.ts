import * as v from 'valibot';

/**
 * The study definition: one valibot schema used by the dashboard, the REST API, import/export
 * and the runtime. This file checks *shape* (types, bounds, sizes) so a draft can be saved
 * while it is still incomplete; `validateStudy` (validate.ts) adds the checks a study must pass
 * to be published, and reports every problem at once with its path.
 */

export const STUDY_SCHEMA_VERSION = 1;

/** Stage ids, role ids, condition ids, item ids: short, stable, safe in column names. */
const ID_PATTERN = /^[a-z][a-z0-9_-]{0,47}$/;
const id = (what: string) =>
	v.pipe(
		v.string(),
		v.regex(ID_PATTERN, `${what} must start with a letter and use a–z, 0–9, _ or - (max 48)`)
	);

const text = (max: number) => v.pipe(v.string(), v.maxLength(max, `at most ${max} characters`));
const whole = (min: number, max: number) =>
	v.pipe(
		v.number(),
		v.integer('must be a whole number'),
		v.minValue(min, `must be at least ${min}`),
		v.maxValue(max, `must be at most ${max}`)
	);
const seconds = (min: number, max: number) =>
	v.pipe(
		v.number(),
		v.finite(),
		v.minValue(min, `must be at least ${min} s`),
		v.maxValue(max, `must be at most ${max} s`)
	);

/** An empty string or an http(s) URL (redirects, e.g. Prolific completion URLs). */
const optionalUrl = v.pipe(
	v.string(),
	v.maxLength(2000),
	v.check(
		(value) => value === '' || /^https?:\/\/[^\s]+$/i.test(value),
		'must be empty or an http(s):// URL'
	)
);

const ONE_DAY = 86_400;

// --- Settings --------------------------------------------------------------------------------

export const OUTCOMES = [
	'completed',
	'no_consent',
	'lobby_timeout',
	'dropout',
	'technical_error',
	'screened_out'
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const OutcomeSettingsSchema = v.object({
	/** Shown to the participant at the end (e.g. a Prolific completion code); empty = none. */
	completionCode: text(100),
	/** Where the participant is sent at the end; empty = stay on the thank-you page. */
	redirectUrl: optionalUrl
});

const MatchedSessionSchema = v.object({
	mode: v.literal('matched'),
	/** Groups of this size form as soon as that many are waiting. */
	groupSize: whole(1, 64),
	/** When a waiter's lobby timeout comes and at least this many wait, a smaller group forms. */
	minGroupSize: whole(1, 64),
	lobbyTimeoutSeconds: seconds(10, ONE_DAY)
});

const OpenSessionSchema = v.object({
	mode: v.literal('open'),
	/** Most members in one room (a study room or a watch party). */
	capacity: whole(1, 64),
	/** Participants may start a new room and share its invite code; otherwise rooms are made by experimenters. */
	participantsCreateRooms: v.boolean()
});

const ScheduledSessionSchema = v.object({
	mode: v.literal('scheduled'),
	/** A cohort starts every this many minutes, aligned to the first start. */
	intervalMinutes: whole(1, 24 * 60),
	/** ISO 8601 time of the first cohort; empty = aligned to the hour. */
	firstStartAt: v.pipe(
		v.string(),
		v.check((value) => value === '' || !Number.isNaN(Date.parse(value)), 'must be a date and time')
	),
	/** Fewer than this many at the start: the cohort does not run (lobby_timeout). */
	minCohortSize: whole(1, 64),
	/** More than this many: the cohort is split into several rooms. */
	maxCohortSize: whole(1, 64)
});

export const SessionSchema = v.variant('mode', [
	MatchedSessionSchema,
	OpenSessionSchema,
	ScheduledSessionSchema
]);
export const SESSION_MODES = ['matched', 'open', 'scheduled'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

export const RoleSchema = v.object({
	id: id('Role id'),
	name: text(80),
	/** Members each group needs in this role. */
	minCount: whole(0, 64),
	/** At most this many per group; null = no limit. */
	maxCount: v.nullable(whole(1, 64))
});

export const ConditionSchema = v.object({ id: id('Condition id'), name: text(80) });

export const CONDITION_ASSIGNMENTS = ['random', 'balanced'] as const;

/** Texts the participant sees outside stages; empty = the built-in wording. */
export const PARTICIPANT_TEXT_KEYS = [
	'waitingRoom',
	'studyClosed',
	'studyPaused',
	'studyFull'
] as const;

/** How many study-link parameters a study may list as safe. */
export const MAX_SAFE_LINK_PARAMETERS = 50;

/** A study-link parameter's name as it appears in a URL: printable ASCII, no spaces. */
export const LinkParameterName = v.pipe(
	v.string(),
	v.regex(
		/^[\x21-\x7e]{1,64}$/,
		'must be a link parameter name (1–64 ASCII letters, digits or symbols; no spaces or accents)'
	)
);

export const SettingsSchema = v.object({
	title: text(200),
	description: text(5000),
	/** The name participants see (the internal title may say more). */
	participantTitle: text(200),
	/** BCP 47 language tag of the participant-facing texts. */
	language: v.pipe(
		v.string(),
		v.regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag like en or de-CH')
	),
	texts: v.object(
		Object.fromEntries(PARTICIPANT_TEXT_KEYS.map((key) => [key, text(2000)])) as Record<
			(typeof PARTICIPANT_TEXT_KEYS)[number],
			ReturnType<typeof text>
		>
	),
	session: SessionSchema,
	roles: v.pipe(v.array(RoleSchema), v.maxLength(16, 'at most 16 roles')),
	conditions: v.object({
		assignment: v.picklist(CONDITION_ASSIGNMENTS),
		list: v.pipe(v.array(ConditionSchema), v.maxLength(32, 'at most 32 conditions'))
	}),
	outcomes: v.object(
		Object.fromEntries(OUTCOMES.map((outcome) => [outcome, OutcomeSettingsSchema])) as Record<
			Outcome,
			typeof OutcomeSettingsSchema
		>
	),
	/** Capture PROLIFIC_PID, STUDY_ID and SESSION_ID from the study link. */
	prolific: v.boolean(),
	/**
	 * Study-link parameters that identify nobody (`src`, `condition_code`…), shown to everyone
	 * who may export. Every other parameter (`email`, `workerId`…) counts as identifying: only
	 * the data permission reaches it. Absent in older definitions, which means none; left absent
	 * (not defaulted to []) so those definitions keep their content hash.
	 */
	safeLinkParameters: v.optional(
		v.pipe(
			v.array(LinkParameterName),
			v.maxLength(MAX_SAFE_LINK_PARAMETERS, `at most ${MAX_SAFE_LINK_PARAMETERS} parameters`)
		)
	)
});

// --- Stage contents --------------------------------------------------------------------------

const markdown = text(50_000);

const OptionSchema = v.object({ value: id('Option value'), label: text(300) });

const itemBase = {
	id: id('Item id'),
	prompt: text(2000),
	required: v.boolean()
};

export const QuestionItemSchema = v.variant('kind', [
	v.object({
		...itemBase,
		kind: v.literal('likert'),
		points: whole(2, 11),
		minLabel: text(100),
		maxLabel: text(100)
	}),
	v.object({
		...itemBase,
		kind: v.literal('choice'),
		options: v.pipe(v.array(OptionSchema), v.maxLength(50))
	}),
	v.object({
		...itemBase,
		kind: v.literal('checkboxes'),
		options: v.pipe(v.array(OptionSchema), v.maxLength(50)),
		minSelected: whole(0, 50),
		maxSelected: v.nullable(whole(1, 50))
	}),
	v.object({
		...itemBase,
		kind: v.literal('slider'),
		min: v.pipe(v.number(), v.finite()),
		max: v.pipe(v.number(), v.finite()),
		step: v.pipe(v.number(), v.finite(), v.gtValue(0, 'must be above 0')),
		minLabel: text(100),
		maxLabel: text(100)
	}),
	v.object({
		...itemBase,
		kind: v.literal('number'),
		min: v.nullable(v.pipe(v.number(), v.finite())),
		max: v.nullable(v.pipe(v.number(), v.finite())),
		integer: v.boolean()
	}),
	v.object({ ...itemBase, kind: v.literal('short_text'), maxLength: whole(1, 1000) }),
	v.object({ ...itemBase, kind: v.literal('long_text'), maxLength: whole(1, 20_000) })
]);
export const QUESTION_KINDS = [
	'likert',
	'choice',
	'checkboxes',
	'slider',
	'number',
	'short_text',
	'long_text'
] as const;

const ContinuousRatingSchema = v.object({
	label: text(200),
	min: v.pipe(v.number(), v.finite()),
	max: v.pipe(v.number(), v.finite()),
	minLabel: text(100),
	maxLabel: text(100),
	/** Samples per second taken from the slider while the video plays. */
	sampleRateHz: whole(1, 60)
});

export const TimerBlockSchema = v.object({
	label: text(80),
	kind: v.picklist(['focus', 'break']),
	seconds: seconds(1, ONE_DAY)
});

export const GROUP_METRICS = ['mean', 'coherence'] as const;

/** The content of each stage type; per-role / per-condition variants reuse the same shape. */
export const StageContentSchemas = {
	instructions: v.object({ markdown, continueLabel: text(80) }),
	consent: v.object({ markdown, agreeLabel: text(120), declineLabel: text(120) }),
	questionnaire: v.object({
		items: v.pipe(v.array(QuestionItemSchema), v.maxLength(200, 'at most 200 items')),
		randomizeOrder: v.boolean()
	}),
	video: v.object({
		/** A media-library item; null until one is chosen (publishing requires it). */
		mediaId: v.nullable(v.pipe(v.string(), v.maxLength(64))),
		continuousRating: v.nullable(ContinuousRatingSchema),
		/** Roles allowed to pause and seek (watch parties); empty = the experimenter only. */
		controlRoles: v.pipe(v.array(id('Role id')), v.maxLength(16)),
		/** How long to wait for everyone to buffer before starting anyway. */
		bufferTimeoutSeconds: seconds(1, 600)
	}),
	conversation: v.object({
		audio: v.boolean(),
		video: v.boolean(),
		/** Roles that listen only (they subscribe, never publish). */
		listenerRoles: v.pipe(v.array(id('Role id')), v.maxLength(16)),
		record: v.boolean()
	}),
	chat: v.object({ markdown, maxMessageLength: whole(1, 4000) }),
	timer: v.object({
		blocks: v.pipe(v.array(TimerBlockSchema), v.maxLength(20)),
		/** How many times the blocks run in a row (Pomodoro rounds). */
		repeat: whole(1, 100),
		/** A shared goal text the group can edit while the timer runs; empty prompt = none. */
		goalPrompt: text(300)
	}),
	group_choice: v.object({
		prompt: text(2000),
		options: v.pipe(v.array(OptionSchema), v.maxLength(50)),
		/** The stage ends only once everyone picked the same option. */
		consensusRequired: v.boolean(),
		showChoicesLive: v.boolean()
	}),
	wait: v.object({ markdown }),
	group_metric: v.object({
		label: text(200),
		metric: v.picklist(GROUP_METRICS),
		/** The telemetry kind the metric is computed from (e.g. rating, hrv). */
		signal: id('Signal'),
		min: v.pipe(v.number(), v.finite()),
		max: v.pipe(v.number(), v.finite()),
		markdown
	}),
	end: v.object({
		markdown,
		/** The outcome a participant who reaches this stage gets. */
		outcome: v.picklist(OUTCOMES)
	})
} as const;

export type StageType = keyof typeof StageContentSchemas;
export const STAGE_TYPES = Object.keys(StageContentSchemas) as StageType[];

export const ADVANCE_RULES = ['timer', 'all_submitted', 'experimenter', 'first'] as const;
export type AdvanceRule = (typeof ADVANCE_RULES)[number];

export const DropoutPolicySchema = v.variant('policy', [
	v.object({
		policy: v.literal('pause'),
		/** The room pauses with a visible countdown for the missing member to come back. */
		countdownSeconds: seconds(5, 3600),
		/** What happens when the countdown ends without them. */
		then: v.picklist(['continue', 'end'])
	}),
	v.object({
		policy: v.literal('continue'),
		/** Fewer members than this left: the room ends with the dropout outcome. */
		minMembers: whole(1, 64)
	}),
	v.object({ policy: v.literal('end') })
]);
export const DROPOUT_POLICIES = ['pause', 'continue', 'end'] as const;

const VariantWhenSchema = v.object({
	roles: v.pipe(v.array(id('Role id')), v.maxLength(16)),
	conditions: v.pipe(v.array(id('Condition id')), v.maxLength(32))
});

function stageSchema<T extends StageType>(type: T) {
	const content = StageContentSchemas[type];
	return v.object({
		type: v.literal(type),
		id: id('Stage id'),
		title: text(200),
		/** Seconds, or null for no time limit. */
		durationSeconds: v.nullable(seconds(1, ONE_DAY)),
		advance: v.picklist(ADVANCE_RULES),
		dropout: DropoutPolicySchema,
		content,
		/** The first variant whose roles and conditions match a member replaces the content. */
		variants: v.pipe(
			v.array(v.object({ when: VariantWhenSchema, content })),
			v.maxLength(16, 'at most 16 variants')
		)
	});
}

export const StageSchema = v.variant('type', [
	stageSchema('instructions'),
	stageSchema('consent'),
	stageSchema('questionnaire'),
	stageSchema('video'),
	stageSchema('conversation'),
	stageSchema('chat'),
	stageSchema('timer'),
	stageSchema('group_choice'),
	stageSchema('wait'),
	stageSchema('group_metric'),
	stageSchema('end')
]);

export const StudyDefinitionSchema = v.object({
	schemaVersion: v.literal(STUDY_SCHEMA_VERSION, `schemaVersion must be ${STUDY_SCHEMA_VERSION}`),
	settings: SettingsSchema,
	stages: v.pipe(v.array(StageSchema), v.maxLength(100, 'at most 100 stages'))
});

export type StudyDefinition = v.InferOutput<typeof StudyDefinitionSchema>;
export type StudySettings = StudyDefinition['settings'];
export type SessionSettings = StudySettings['session'];
export type Stage = v.InferOutput<typeof StageSchema>;
export type StageOf<T extends StageType> = Extract<Stage, { type: T }>;
export type StageContent<T extends StageType> = StageOf<T>['content'];
export type QuestionItem = v.InferOutput<typeof QuestionItemSchema>;
export type QuestionKind = QuestionItem['kind'];
export type DropoutPolicy = v.InferOutput<typeof DropoutPolicySchema>;
export type Role = v.InferOutput<typeof RoleSchema>;
export type Condition = v.InferOutput<typeof ConditionSchema>;
