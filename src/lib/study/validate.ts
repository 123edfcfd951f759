import * as v from 'valibot';
import { describeUnstorableText, findUnstorableInJson } from '../protocol/text';
import {
	StudyDefinitionSchema,
	type QuestionItem,
	type Stage,
	type StudyDefinition,
	type StudySettings
} from './schema';

/** One problem with a study, located by a dotted path like `stages.2.content.mediaId`. */
export type StudyIssue = { path: string; message: string };

export type MediaSummary = { kind: 'video' | 'audio' | 'image' };

/** What publishing depends on outside the definition itself. */
export type ValidationContext = {
	/** LiveKit settings are present (conversation stages need them). */
	livekitConfigured: boolean;
	/** The media library by id; null skips the existence check (e.g. in the browser). */
	media: ReadonlyMap<string, MediaSummary> | null;
};

export type ParseResult =
	{ ok: true; definition: StudyDefinition } | { ok: false; issues: StudyIssue[] };

/** Dotted path of a valibot issue (`stages.3.content.items.0.prompt`). */
function pathOf(issue: v.BaseIssue<unknown>): string {
	return (issue.path ?? []).map((item) => String(item.key)).join('.');
}

/** valibot's names for expected types, as a person would say them. */
const TYPE_NAMES: Record<string, string> = {
	number: 'a number',
	string: 'text',
	boolean: 'true or false',
	Array: 'a list',
	Object: 'an object'
};

/**
 * A message for people. Our own messages (regex, bounds, schemaVersion) stay as written; valibot's
 * generic ones ("Invalid type: Expected number but received \"5\"") become a short sentence. The
 * path already says where, so the message only says what is wrong.
 */
function describeIssue(issue: v.BaseIssue<unknown>): string {
	const key = issue.path?.at(-1)?.key;
	// An absent key and a missing variant discriminator (`type`, `kind`) both arrive as "received undefined".
	if (issue.kind === 'schema' && issue.received === 'undefined' && key !== undefined) {
		return `${String(key)} is missing.`;
	}
	if (!issue.message.startsWith('Invalid ')) return issue.message;
	if (issue.kind === 'schema') {
		const name = TYPE_NAMES[issue.expected ?? ''];
		if (name) return `must be ${name}`;
		// Picklists, literals and variants list their values: ("random" | "balanced").
		const choices = issue.expected?.replace(/^\((.*)\)$/, '$1').split(' | ') ?? [];
		if (choices.length > 1) return `must be one of ${choices.join(', ')}, not ${issue.received}`;
		if (choices.length === 1) return `must be ${choices[0]}, not ${issue.received}`;
	}
	if (issue.type === 'max_length') {
		const unit = typeof issue.input === 'string' ? 'characters' : 'items';
		return `at most ${String(issue.requirement)} ${unit}`;
	}
	if (issue.type === 'finite') return 'must be a finite number';
	return issue.message;
}

/**
 * Checks a definition coming in (what a draft must satisfy to be saved): every text in it must
 * be storable (the shared rule, checked first: nothing of such a definition is kept), then the
 * shape, with every problem, not just the first.
 */
export function parseStudyDefinition(input: unknown): ParseResult {
	const unstorable = findUnstorableInJson(input);
	if (unstorable) {
		return {
			ok: false,
			issues: [{ path: unstorable.path, message: describeUnstorableText(unstorable.problem) }]
		};
	}
	return parseStoredStudyDefinition(input);
}

/**
 * Checks only the shape, for definitions read back from storage: they passed the text rule on
 * the way in (or predate a part of it), and refusing them now would lock a running study out.
 */
export function parseStoredStudyDefinition(input: unknown): ParseResult {
	const result = v.safeParse(StudyDefinitionSchema, input);
	if (result.success) return { ok: true, definition: result.output };
	return {
		ok: false,
		issues: result.issues.map((issue) => ({ path: pathOf(issue), message: describeIssue(issue) }))
	};
}

/**
 * Everything a study must satisfy to be published: the shape, then the rules that span fields
 * (ids unique, references resolve, group sizes fit the roles, media chosen, A/V configured).
 */
export function validateStudy(input: unknown, context: ValidationContext): ParseResult {
	const parsed = parseStudyDefinition(input);
	if (!parsed.ok) return parsed;
	const issues = checkPublishable(parsed.definition, context);
	return issues.length === 0 ? parsed : { ok: false, issues };
}

/** The publish rules for a definition whose shape is already valid. */
export function checkPublishable(
	definition: StudyDefinition,
	context: ValidationContext
): StudyIssue[] {
	const issues: StudyIssue[] = [];
	const report = (path: string, message: string) => issues.push({ path, message });
	checkSettings(definition.settings, report);
	checkStages(definition, context, report);
	return issues;
}

type Report = (path: string, message: string) => void;

function requireText(value: string, path: string, what: string, report: Report): void {
	if (value.trim() === '') report(path, `${what} is required.`);
}

function findDuplicates(values: readonly string[]): Set<string> {
	const seen = new Set<string>();
	const duplicates = new Set<string>();
	for (const value of values) (seen.has(value) ? duplicates : seen).add(value);
	return duplicates;
}

/** The smallest group the session mode can produce. */
function smallestGroup(settings: StudySettings): number {
	const session = settings.session;
	if (session.mode === 'matched') return session.minGroupSize;
	if (session.mode === 'scheduled') return session.minCohortSize;
	return session.capacity;
}

function checkSettings(settings: StudySettings, report: Report): void {
	requireText(settings.title, 'settings.title', 'A title', report);

	const session = settings.session;
	if (session.mode === 'matched' && session.minGroupSize > session.groupSize) {
		report(
			'settings.session.minGroupSize',
			`The smallest group (${session.minGroupSize}) cannot be larger than the group size (${session.groupSize}).`
		);
	}
	if (session.mode === 'scheduled' && session.minCohortSize > session.maxCohortSize) {
		report(
			'settings.session.minCohortSize',
			`The smallest cohort (${session.minCohortSize}) cannot be larger than the largest (${session.maxCohortSize}).`
		);
	}

	if (settings.roles.length === 0) report('settings.roles', 'Add at least one role.');
	const duplicateRoles = findDuplicates(settings.roles.map((role) => role.id));
	settings.roles.forEach((role, index) => {
		const path = `settings.roles.${index}`;
		requireText(role.name, `${path}.name`, 'A role name', report);
		if (duplicateRoles.has(role.id))
			report(`${path}.id`, `The role id "${role.id}" is used twice.`);
		if (role.maxCount !== null && role.maxCount < role.minCount) {
			report(`${path}.maxCount`, 'The most members in a role cannot be fewer than the least.');
		}
	});
	const required = settings.roles.reduce((sum, role) => sum + role.minCount, 0);
	const smallest = smallestGroup(settings);
	if (required > smallest) {
		report(
			'settings.roles',
			`The roles need at least ${required} members per group, but a group can have as few as ${smallest}.`
		);
	}
	const roomForAll = settings.roles.every((role) => role.maxCount !== null)
		? settings.roles.reduce((sum, role) => sum + (role.maxCount ?? 0), 0)
		: Infinity;
	const largest =
		session.mode === 'matched'
			? session.groupSize
			: session.mode === 'scheduled'
				? session.maxCohortSize
				: session.capacity;
	if (settings.roles.length > 0 && roomForAll < largest) {
		report(
			'settings.roles',
			`The roles hold at most ${roomForAll} members, but a group can have ${largest}.`
		);
	}

	const conditions = settings.conditions.list;
	if (conditions.length === 0) report('settings.conditions.list', 'Add at least one condition.');
	const duplicateConditions = findDuplicates(conditions.map((condition) => condition.id));
	conditions.forEach((condition, index) => {
		const path = `settings.conditions.list.${index}`;
		requireText(condition.name, `${path}.name`, 'A condition name', report);
		if (duplicateConditions.has(condition.id)) {
			report(`${path}.id`, `The condition id "${condition.id}" is used twice.`);
		}
	});
}

function checkStages(
	definition: StudyDefinition,
	context: ValidationContext,
	report: Report
): void {
	const { stages, settings } = definition;
	if (stages.length === 0) {
		report('stages', 'Add at least one stage.');
		return;
	}
	const roleIds = new Set(settings.roles.map((role) => role.id));
	const conditionIds = new Set(settings.conditions.list.map((condition) => condition.id));
	const duplicateStages = findDuplicates(stages.map((stage) => stage.id));
	const endIndex = stages.findIndex((stage) => stage.type === 'end');
	if (endIndex === -1) {
		report('stages', 'The last stage must be an end stage (thank-you, completion code).');
	}

	stages.forEach((stage, index) => {
		const path = `stages.${index}`;
		requireText(stage.title, `${path}.title`, 'A stage title', report);
		if (duplicateStages.has(stage.id))
			report(`${path}.id`, `The stage id "${stage.id}" is used twice.`);
		if (endIndex !== -1 && index > endIndex) {
			report(`${path}`, 'No stage can come after the end stage; participants would never see it.');
		}
		if ((stage.advance === 'timer' || stage.type === 'wait') && stage.durationSeconds === null) {
			report(
				`${path}.durationSeconds`,
				stage.type === 'wait'
					? 'A wait stage needs a timeout.'
					: 'This stage advances on its timer, so it needs a duration.'
			);
		}
		stage.variants.forEach((variant, variantIndex) => {
			const variantPath = `${path}.variants.${variantIndex}`;
			if (variant.when.roles.length === 0 && variant.when.conditions.length === 0) {
				report(`${variantPath}.when`, 'A variant must name at least one role or condition.');
			}
			checkReferences(variant.when.roles, roleIds, `${variantPath}.when.roles`, 'role', report);
			checkReferences(
				variant.when.conditions,
				conditionIds,
				`${variantPath}.when.conditions`,
				'condition',
				report
			);
			checkContent(stage.type, variant.content, `${variantPath}.content`, roleIds, context, report);
		});
		checkContent(stage.type, stage.content, `${path}.content`, roleIds, context, report);
	});
}

function checkReferences(
	used: readonly string[],
	known: ReadonlySet<string>,
	path: string,
	what: string,
	report: Report
): void {
	used.forEach((value, index) => {
		if (!known.has(value)) report(`${path}.${index}`, `There is no ${what} "${value}".`);
	});
}

/** Content rules per stage type. `content` matches `type` (the schema guarantees it). */
function checkContent(
	type: Stage['type'],
	content: Stage['content'],
	path: string,
	roleIds: ReadonlySet<string>,
	context: ValidationContext,
	report: Report
): void {
	switch (type) {
		case 'consent': {
			const consent = content as Extract<Stage, { type: 'consent' }>['content'];
			requireText(consent.markdown, `${path}.markdown`, 'The consent text', report);
			requireText(consent.agreeLabel, `${path}.agreeLabel`, 'The agree button label', report);
			requireText(consent.declineLabel, `${path}.declineLabel`, 'The decline button label', report);
			return;
		}
		case 'questionnaire': {
			const questionnaire = content as Extract<Stage, { type: 'questionnaire' }>['content'];
			if (questionnaire.items.length === 0) report(`${path}.items`, 'Add at least one question.');
			const duplicates = findDuplicates(questionnaire.items.map((item) => item.id));
			questionnaire.items.forEach((item, index) => {
				const itemPath = `${path}.items.${index}`;
				if (duplicates.has(item.id))
					report(`${itemPath}.id`, `The item id "${item.id}" is used twice.`);
				checkItem(item, itemPath, report);
			});
			return;
		}
		case 'video': {
			const video = content as Extract<Stage, { type: 'video' }>['content'];
			if (video.mediaId === null || video.mediaId === '') {
				report(`${path}.mediaId`, 'Choose a video from the media library.');
			} else if (context.media) {
				const item = context.media.get(video.mediaId);
				if (!item) report(`${path}.mediaId`, 'This media item is no longer in the library.');
				else if (item.kind === 'image')
					report(`${path}.mediaId`, 'Choose a video or audio item, not an image.');
			}
			const rating = video.continuousRating;
			if (rating && rating.min >= rating.max) {
				report(`${path}.continuousRating.max`, 'The rating maximum must be above its minimum.');
			}
			checkReferences(video.controlRoles, roleIds, `${path}.controlRoles`, 'role', report);
			return;
		}
		case 'conversation': {
			const conversation = content as Extract<Stage, { type: 'conversation' }>['content'];
			if (!context.livekitConfigured) {
				report(
					path,
					'Audio/video needs LiveKit: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET on the server.'
				);
			}
			if (!conversation.audio && !conversation.video) {
				report(`${path}.audio`, 'A conversation needs audio, video or both.');
			}
			checkReferences(conversation.listenerRoles, roleIds, `${path}.listenerRoles`, 'role', report);
			return;
		}
		case 'timer': {
			const timer = content as Extract<Stage, { type: 'timer' }>['content'];
			if (timer.blocks.length === 0) report(`${path}.blocks`, 'Add at least one timer block.');
			timer.blocks.forEach((block, index) => {
				requireText(block.label, `${path}.blocks.${index}.label`, 'A block label', report);
			});
			return;
		}
		case 'group_choice': {
			const choice = content as Extract<Stage, { type: 'group_choice' }>['content'];
			requireText(choice.prompt, `${path}.prompt`, 'The question', report);
			checkOptions(choice.options, `${path}.options`, report);
			return;
		}
		case 'group_metric': {
			const metric = content as Extract<Stage, { type: 'group_metric' }>['content'];
			requireText(metric.label, `${path}.label`, 'A label', report);
			if (metric.min >= metric.max) report(`${path}.max`, 'The maximum must be above the minimum.');
			return;
		}
		case 'instructions':
		case 'chat':
		case 'wait':
		case 'end':
			return;
	}
}

function checkOptions(
	options: readonly { value: string; label: string }[],
	path: string,
	report: Report
): void {
	if (options.length < 2) report(path, 'Add at least two options.');
	const duplicates = findDuplicates(options.map((option) => option.value));
	options.forEach((option, index) => {
		requireText(option.label, `${path}.${index}.label`, 'An option label', report);
		if (duplicates.has(option.value)) {
			report(`${path}.${index}.value`, `The option value "${option.value}" is used twice.`);
		}
	});
}

function checkItem(item: QuestionItem, path: string, report: Report): void {
	requireText(item.prompt, `${path}.prompt`, 'A question', report);
	switch (item.kind) {
		case 'choice':
			checkOptions(item.options, `${path}.options`, report);
			return;
		case 'checkboxes':
			checkOptions(item.options, `${path}.options`, report);
			if (item.maxSelected !== null && item.maxSelected < item.minSelected) {
				report(`${path}.maxSelected`, 'The most selections cannot be fewer than the least.');
			}
			if (item.minSelected > item.options.length) {
				report(`${path}.minSelected`, 'More selections are required than there are options.');
			}
			return;
		case 'slider':
			if (item.min >= item.max) report(`${path}.max`, 'The maximum must be above the minimum.');
			else if (item.step > item.max - item.min) {
				report(`${path}.step`, 'The step must not be larger than the range.');
			}
			return;
		case 'number':
			if (item.min !== null && item.max !== null && item.min > item.max) {
				report(`${path}.max`, 'The maximum must not be below the minimum.');
			}
			return;
		case 'likert':
		case 'short_text':
		case 'long_text':
			return;
	}
}
