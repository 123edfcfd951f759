/**
 * The commands a study room accepts, each with its payload schema and the actors allowed to
 * send it. Checked before `decideStudy` looks at the state: payloads arrive from sockets (or
 * from this replica's timers) and are a trust boundary.
 */
import * as v from 'valibot';
import { OUTCOMES } from '../../study';

/** Observers (viewers, hidden experimenters) may send nothing; `system` is this server itself. */
export type StudyActorRole = 'participant' | 'experimenter' | 'observer' | 'bot' | 'system';

/** Who sends a command. For participants and bots `id` is their member id. */
export type Actor = { id: string; role: StudyActorRole };

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const ServerTime = v.pipe(v.number(), v.finite(), v.minValue(0));

/**
 * Any JSON value with bounded nesting. Whether it is an answer to the stage is decided with the
 * state (`validateStageResponse` in decide.ts), which knows the stage and the member's variant.
 */
function isBoundedJson(value: unknown, depth: number): boolean {
	if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
	if (typeof value !== 'object' || depth === 0) return false;
	const children = Array.isArray(value) ? value : Object.values(value);
	return children.every((child) => isBoundedJson(child, depth - 1));
}
const Response = v.pipe(
	v.unknown(),
	v.check((value) => value !== undefined && isBoundedJson(value, 6), 'response must be JSON')
);

const MEMBER: StudyActorRole[] = ['participant', 'bot'];
const EXPERIMENTER: StudyActorRole[] = ['experimenter'];

/** Longest message an experimenter sends to a room or a member (room.message). */
export const MAX_ROOM_MESSAGE_LENGTH = 1000;

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
/**
 * What LiveKit reported about the room's audio/video (webhooks) and what the server did about
 * recording (egress): facts for the data, logged once each, never a change to the experiment.
 */
const AvRecord = v.variant('kind', [
	v.strictObject({
		kind: v.picklist(['participant_joined', 'participant_left']),
		identity: Text(128),
		at: ServerTime
	}),
	v.strictObject({
		kind: v.literal('track_published'),
		identity: Text(128),
		trackSid: Text(128),
		source: Text(32),
		at: ServerTime
	}),
	v.strictObject({
		kind: v.picklist(['egress_started', 'egress_ended']),
		egressId: Text(128),
		stageId: v.nullable(Id),
		/** Where the file goes (S3 key or path), as the egress reports it. */
		file: v.nullable(Text(1000)),
		status: Text(64),
		error: v.nullable(Text(1000)),
		at: ServerTime
	}),
	v.strictObject({
		kind: v.literal('recording_failed'),
		stageId: Id,
		message: Text(1000),
		at: ServerTime
	})
]);
export type AvRecordPayload = v.InferOutput<typeof AvRecord>;

const MediaTime = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(86_400));
const PlaybackControlSchema = v.variant('action', [
	v.strictObject({ stageId: Id, action: v.literal('play') }),
	v.strictObject({ stageId: Id, action: v.literal('pause') }),
	v.strictObject({ stageId: Id, action: v.literal('seek'), mediaTime: MediaTime })
]);

/** Payload schema and allowed senders of every study-room command. */
export const STUDY_COMMANDS = {
	/** A member's answer to the current stage (idempotent: a second one is `already_submitted`). */
	'stage.submit': {
		from: MEMBER,
		schema: v.strictObject({ stageId: Id, response: Response })
	},
	/**
	 * Move on from `fromStageId`; a stale one (the room already left it) is `stale_advance`.
	 * `force`: an experimenter's intervention on a stage whose rule does not let them advance
	 * (timer, all_submitted); ignored for the server's own ticks.
	 */
	'stage.advance': {
		from: ['experimenter', 'system'] as StudyActorRole[],
		schema: v.strictObject({ fromStageId: Id, force: v.optional(v.boolean()) })
	},
	'group_choice.pick': {
		from: MEMBER,
		schema: v.strictObject({ stageId: Id, option: Id })
	},
	/** A chat message on a `chat` or `timer` stage (length checked against the stage). */
	'chat.send': {
		from: MEMBER,
		schema: v.strictObject({ stageId: Id, text: v.pipe(v.string(), v.maxLength(4000)) })
	},
	/** The member's shared goal line on a timer stage with a goal prompt (latest wins). */
	'goal.set': {
		from: MEMBER,
		schema: v.strictObject({ stageId: Id, text: v.pipe(v.string(), v.maxLength(300)) })
	},
	/** The member declines consent on the consent stage `stageId` (guards a late, stale click). */
	'consent.decline': {
		from: MEMBER,
		schema: v.strictObject({ stageId: Id })
	},
	/** Presence after the grace period: false acts the stage's dropout policy, true returns. */
	'member.presence': {
		from: ['system'] as StudyActorRole[],
		schema: v.strictObject({ memberId: Id, present: v.boolean() })
	},
	/**
	 * A socket opened or closed: shown to others. A disconnect carries `absentAt`, when the
	 * member counts as gone (the dropout policy acts then) unless a socket opens again first.
	 */
	'member.connection': {
		from: ['system'] as StudyActorRole[],
		schema: v.strictObject({
			memberId: Id,
			connected: v.boolean(),
			absentAt: v.optional(ServerTime)
		})
	},
	/** `open` sessions: someone joins a running room (up to its capacity). */
	'member.join': {
		from: ['system'] as StudyActorRole[],
		schema: v.strictObject({
			memberId: Id,
			role: v.nullable(Id),
			condition: v.nullable(Id),
			isBot: v.boolean()
		})
	},
	/** The member's player has the video stage's media buffered enough to start. */
	'media.buffered': {
		from: MEMBER,
		schema: v.strictObject({ stageId: Id })
	},
	/** Play, pause or seek the running video: the experimenter, or a role the stage allows. */
	'playback.control': {
		from: ['participant', 'bot', 'experimenter'] as StudyActorRole[],
		schema: PlaybackControlSchema
	},
	/** A LiveKit webhook or recording fact, sent by the server with the webhook/egress id. */
	'av.record': { from: ['system'] as StudyActorRole[], schema: AvRecord },
	'room.pause': { from: EXPERIMENTER, schema: v.strictObject({}) },
	'room.resume': { from: EXPERIMENTER, schema: v.strictObject({}) },
	'room.end': {
		from: EXPERIMENTER,
		schema: v.strictObject({ outcome: v.picklist(OUTCOMES) })
	},
	/** The experimenter takes one member out of the room with `outcome` (the others go on). */
	'member.remove': {
		from: EXPERIMENTER,
		schema: v.strictObject({ memberId: Id, outcome: v.picklist(OUTCOMES) })
	},
	/** A message from the experimenter, shown to the whole room (`memberId: null`) or one member. */
	'room.message': {
		from: EXPERIMENTER,
		schema: v.strictObject({
			text: v.pipe(
				v.string(),
				v.trim(),
				v.minLength(1, 'Write a message.'),
				v.maxLength(MAX_ROOM_MESSAGE_LENGTH, `At most ${MAX_ROOM_MESSAGE_LENGTH} characters.`)
			),
			memberId: v.nullable(Id)
		})
	},
	/**
	 * Lets deadlines fire. `now` records when the replica's timer meant to fire; what counts is
	 * the clock `decideStudy` is given, so a skewed schedule can never fire a deadline early.
	 */
	tick: {
		from: ['system'] as StudyActorRole[],
		schema: v.strictObject({ now: v.optional(ServerTime) })
	}
} as const;

export type StudyCommandName = keyof typeof STUDY_COMMANDS;

/** A parsed command, discriminated by name. */
export type StudyCommand = {
	[K in StudyCommandName]: {
		name: K;
		payload: v.InferOutput<(typeof STUDY_COMMANDS)[K]['schema']>;
	};
}[StudyCommandName];

export type CommandParse =
	| { ok: true; command: StudyCommand }
	| { ok: false; reason: 'unknown_command' | 'invalid_command' | 'forbidden'; message: string };

/** Checks a command's name, sender and payload. */
export function parseStudyCommand(actor: Actor, name: string, payload: unknown): CommandParse {
	if (!Object.hasOwn(STUDY_COMMANDS, name)) {
		return { ok: false, reason: 'unknown_command', message: `Unknown command "${name}".` };
	}
	const spec = STUDY_COMMANDS[name as StudyCommandName];
	if (!(spec.from as readonly StudyActorRole[]).includes(actor.role)) {
		return { ok: false, reason: 'forbidden', message: `A ${actor.role} cannot send ${name}.` };
	}
	const parsed = v.safeParse(spec.schema, payload);
	if (!parsed.success) {
		return { ok: false, reason: 'invalid_command', message: parsed.issues[0].message };
	}
	return { ok: true, command: { name, payload: parsed.output } as StudyCommand };
}
