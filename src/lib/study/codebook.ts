import type { QuestionItem, QuestionKind, Stage, StudyDefinition } from './schema';

/**
 * The codebook of a study: what each response variable means, generated from the published
 * definitions. It documents the `responses` rows (one per stage item) and the `wide` columns
 * (named `<stageId>.<itemId>`), and becomes the Psych-DS `variableMeasured` of an export.
 * Pure and isomorphic: the dashboard can show the same codebook the bundle carries.
 */

/** The item id a consent stage's answer has in the responses and wide datasets. */
export const CONSENT_ITEM_ID = 'agreed';
/** The item id a group choice stage's pick has in the responses and wide datasets. */
export const GROUP_CHOICE_ITEM_ID = 'option';

export type ResponseType = QuestionKind | 'consent' | 'group_choice';

export type VariableLevel = { value: string; label: string };

/** One response variable: a questionnaire item, a consent or a group choice. */
export type StudyVariable = {
	/** `<stageId>.<itemId>`: the wide column's name. */
	name: string;
	stageId: string;
	stageTitle: string;
	itemId: string;
	/** The question as participants read it; every wording, newest first, when they differ. */
	questions: string[];
	responseType: ResponseType;
	/** Allowed values with their labels (options, likert points); null for open answers. */
	levels: VariableLevel[] | null;
	/** Scale bounds (likert, slider, number); null when open. */
	min: number | null;
	max: number | null;
	/** Several options may be ticked (checkboxes). */
	multiple: boolean;
	/** Study versions that ask it, ascending. */
	versions: number[];
};

/** What describing a response type says about its values. */
const RESPONSE_TYPE_TEXT: Record<ResponseType, string> = {
	likert: 'Likert rating',
	choice: 'single choice (option value)',
	checkboxes: 'multiple choice (ticked option values)',
	slider: 'slider value',
	number: 'number',
	short_text: 'short text',
	long_text: 'long text',
	consent: 'consent (true: agreed, false: declined)',
	group_choice: 'group choice (option value)'
};

type Occurrence = Omit<StudyVariable, 'questions' | 'versions' | 'levels'> & {
	question: string;
	levels: VariableLevel[] | null;
	version: number;
};

/**
 * Every response variable of the given published versions. A variable asked by several
 * versions (or stage variants) is one entry: the newest version's stage title and labels win,
 * different wordings are all kept, levels are the union and bounds the widest. Ordered as in
 * the newest version, then what only older versions ask.
 */
export function describeStudyVariables(
	definitions: ReadonlyMap<number, StudyDefinition>
): StudyVariable[] {
	const newestFirst = [...definitions.entries()].sort(([a], [b]) => b - a);
	const variables = new Map<string, StudyVariable>();
	for (const [version, definition] of newestFirst) {
		for (const stage of definition.stages) {
			for (const occurrence of listOccurrences(stage, version)) {
				const known = variables.get(occurrence.name);
				if (known) mergeOccurrence(known, occurrence);
				else variables.set(occurrence.name, startVariable(occurrence));
			}
		}
	}
	return [...variables.values()];
}

/** The variables one stage asks, in its base content and in each variant. */
function listOccurrences(stage: Stage, version: number): Occurrence[] {
	const base = { stageId: stage.id, stageTitle: stage.title, version, multiple: false };
	switch (stage.type) {
		case 'questionnaire':
			return [stage.content, ...stage.variants.map((variant) => variant.content)].flatMap(
				(content) => content.items.map((item) => describeItem(base, item))
			);
		case 'consent':
			return [
				{
					...base,
					name: `${stage.id}.${CONSENT_ITEM_ID}`,
					itemId: CONSENT_ITEM_ID,
					question: 'Consent given',
					responseType: 'consent',
					levels: [
						{ value: 'true', label: stage.content.agreeLabel || 'agreed' },
						{ value: 'false', label: stage.content.declineLabel || 'declined' }
					],
					min: null,
					max: null
				}
			];
		case 'group_choice':
			return [stage.content, ...stage.variants.map((variant) => variant.content)].map(
				(content) => ({
					...base,
					name: `${stage.id}.${GROUP_CHOICE_ITEM_ID}`,
					itemId: GROUP_CHOICE_ITEM_ID,
					question: content.prompt,
					responseType: 'group_choice' as const,
					levels: content.options.map(({ value, label }) => ({ value, label })),
					min: null,
					max: null
				})
			);
		default:
			return [];
	}
}

function describeItem(
	base: { stageId: string; stageTitle: string; version: number; multiple: boolean },
	item: QuestionItem
): Occurrence {
	const common = {
		...base,
		name: `${base.stageId}.${item.id}`,
		itemId: item.id,
		question: item.prompt,
		responseType: item.kind
	};
	switch (item.kind) {
		case 'likert':
			return {
				...common,
				levels: listLikertPoints(item.points, item.minLabel, item.maxLabel),
				min: 1,
				max: item.points
			};
		case 'choice':
			return { ...common, levels: item.options.map(copyOption), min: null, max: null };
		case 'checkboxes':
			return {
				...common,
				multiple: true,
				levels: item.options.map(copyOption),
				min: null,
				max: null
			};
		case 'slider':
			return { ...common, levels: null, min: item.min, max: item.max };
		case 'number':
			return { ...common, levels: null, min: item.min, max: item.max };
		case 'short_text':
		case 'long_text':
			return { ...common, levels: null, min: null, max: null };
	}
}

/** Likert answers are 1…points; only the end points carry the study's labels. */
function listLikertPoints(points: number, minLabel: string, maxLabel: string): VariableLevel[] {
	return Array.from({ length: points }, (_, index) => {
		const value = index + 1;
		const label = value === 1 ? minLabel : value === points ? maxLabel : '';
		return { value: String(value), label };
	});
}

function copyOption(option: { value: string; label: string }): VariableLevel {
	return { value: option.value, label: option.label };
}

function startVariable({ question, version, levels, ...rest }: Occurrence): StudyVariable {
	return {
		...rest,
		questions: question ? [question] : [],
		levels: levels ? levels.map((level) => ({ ...level })) : null,
		versions: [version]
	};
}

/** Folds an older (or variant) occurrence into a variable the newer one started. */
function mergeOccurrence(variable: StudyVariable, occurrence: Occurrence): void {
	if (occurrence.question && !variable.questions.includes(occurrence.question)) {
		variable.questions.push(occurrence.question);
	}
	if (!variable.versions.includes(occurrence.version)) {
		variable.versions.push(occurrence.version);
		variable.versions.sort((a, b) => a - b);
	}
	variable.multiple ||= occurrence.multiple;
	if (occurrence.levels) {
		variable.levels ??= [];
		for (const level of occurrence.levels) {
			const known = variable.levels.find((candidate) => candidate.value === level.value);
			if (!known) variable.levels.push({ ...level });
			else if (!known.label) known.label = level.label;
		}
	}
	variable.min = widen(variable.min, occurrence.min, Math.min);
	variable.max = widen(variable.max, occurrence.max, Math.max);
}

/** Null is an open bound, so it wins over any number. */
function widen(
	current: number | null,
	next: number | null,
	pick: (a: number, b: number) => number
): number | null {
	return current === null || next === null ? null : pick(current, next);
}

// --- variableMeasured -------------------------------------------------------------------------

/** What the codebook needs of a column (structurally the export's `Column`). */
export type DocumentedColumn = {
	name: string;
	description: string;
	type?: string;
	unit?: string;
	levels?: string[];
};

/** A file of the bundle and its columns, e.g. `data/study-x_data-wide_data.csv`. */
export type DocumentedFile = { path: string; columns: readonly DocumentedColumn[] };

/** A schema.org PropertyValue as Psych-DS reads it (`levels` as in jsPsych's metadata). */
export type PropertyValue = {
	'@type': 'PropertyValue';
	name: string;
	description: string;
	unitText?: string;
	minValue?: number;
	maxValue?: number;
	levels?: string[];
};

/**
 * The Psych-DS `variableMeasured` list: one PropertyValue per distinct column name across
 * `files`, so every header of every data file is covered. A column that is a study variable
 * (`<stageId>.<itemId>`) is described by its question, response type, levels and bounds; a
 * name that several files share is one entry that says which files hold it.
 */
export function buildVariableMeasured(
	files: readonly DocumentedFile[],
	definitions: ReadonlyMap<number, StudyDefinition>
): PropertyValue[] {
	const variables = new Map(describeStudyVariables(definitions).map((v) => [v.name, v]));
	const byName = new Map<string, { path: string; column: DocumentedColumn }[]>();
	for (const file of files) {
		for (const column of file.columns) {
			const uses = byName.get(column.name) ?? [];
			if (!uses.some((use) => use.path === file.path)) uses.push({ path: file.path, column });
			byName.set(column.name, uses);
		}
	}
	return [...byName].map(([name, uses]) => describeColumn(name, uses, variables.get(name)));
}

function describeColumn(
	name: string,
	uses: { path: string; column: DocumentedColumn }[],
	variable: StudyVariable | undefined
): PropertyValue {
	const entry: PropertyValue = {
		'@type': 'PropertyValue',
		name,
		description: joinDescriptions(name, uses, variable)
	};
	// A unit only when every file agrees on it: a unit one file gives may not hold for another.
	const units = new Set(uses.map(({ column }) => column.unit ?? ''));
	const [unit] = units;
	if (units.size === 1 && unit) entry.unitText = unit;
	const levels = [
		...(variable?.levels?.map((level) => level.value) ?? []),
		...uses.flatMap(({ column }) => column.levels ?? [])
	];
	if (levels.length > 0) entry.levels = [...new Set(levels)];
	if (variable?.min !== null && variable?.min !== undefined) entry.minValue = variable.min;
	if (variable?.max !== null && variable?.max !== undefined) entry.maxValue = variable.max;
	return entry;
}

function joinDescriptions(
	name: string,
	uses: { path: string; column: DocumentedColumn }[],
	variable: StudyVariable | undefined
): string {
	const parts: string[] = [];
	if (variable) parts.push(describeVariable(variable));
	const distinct = new Set(uses.map(({ column }) => column.description.trim()).filter(Boolean));
	if (distinct.size > 1) {
		for (const { path, column } of uses) parts.push(`In ${path}: ${column.description.trim()}`);
	} else {
		parts.push(...distinct);
		if (uses.length > 1) parts.push(`In ${uses.map(({ path }) => path).join(', ')}.`);
	}
	if (parts.length === 0) parts.push(`Column ${name}`);
	return parts.map(endSentence).join(' ');
}

/** One paragraph a researcher can read: where it was asked, what, and how it is coded. */
export function describeVariable(variable: StudyVariable): string {
	const where = `Stage "${variable.stageTitle || variable.stageId}" (${variable.stageId}), item ${variable.itemId}`;
	const asked =
		variable.questions.length === 0
			? ''
			: variable.questions.length === 1
				? `: "${variable.questions[0]}"`
				: `: ${variable.questions.map((q) => `"${q}"`).join(' / ')} (wording differs between versions or variants)`;
	const parts = [`${where}${asked}.`, `Response: ${RESPONSE_TYPE_TEXT[variable.responseType]}.`];
	const bounds = describeBounds(variable.min, variable.max);
	if (bounds) parts.push(bounds);
	const labelled = variable.levels?.filter((level) => level.label) ?? [];
	if (labelled.length > 0) {
		parts.push(`Levels: ${labelled.map(({ value, label }) => `${value} = ${label}`).join('; ')}.`);
	}
	if (variable.multiple) parts.push('Several options may be ticked.');
	parts.push(
		`Asked in version${variable.versions.length > 1 ? 's' : ''} ${variable.versions.join(', ')}.`
	);
	return parts.join(' ');
}

function describeBounds(min: number | null, max: number | null): string | null {
	if (min !== null && max !== null) return `Range ${min} to ${max}.`;
	if (min !== null) return `At least ${min}.`;
	if (max !== null) return `At most ${max}.`;
	return null;
}

function endSentence(text: string): string {
	return /[.!?]$/.test(text) ? text : `${text}.`;
}
