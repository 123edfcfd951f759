/**
 * The two documents of a Psych-DS bundle written after the data: `dataset_description.json`
 * (the Psych-DS metadata; its `variableMeasured` is the codebook) and `README.md` (what the
 * files are, which filters made them, and each study variable's question and coding).
 */
import type { PropertyValue, StudyVariable } from '../../study/codebook';
import type { ExportScope } from './dataset';

/** The Psych-DS version whose rules the bundle follows (the one jsPsych's metadata writes). */
export const PSYCH_DS_SCHEMA_VERSION = 'Psych-DS 0.4.0';

export type BundleStudy = { id: string; title: string; description?: string };

export type WrittenFile = { path: string; rows: number; what: string };

export type EventsSummary = {
	files: number;
	samples: number;
	participants: number;
	/** Rating samples whose values did not validate and were left out. */
	malformed: number;
};

/** The Psych-DS metadata object (schema.org Dataset). */
export function buildDatasetDescription(input: {
	study: BundleStudy;
	scope: ExportScope;
	variableMeasured: PropertyValue[];
	createdAt: Date;
}): Record<string, unknown> {
	const { study, scope, variableMeasured, createdAt } = input;
	const description =
		study.description?.trim() || `Data of the study "${study.title}", exported from Ensemble.`;
	return {
		'@context': 'https://schema.org/',
		'@type': 'Dataset',
		name: study.title || study.id,
		description,
		schemaVersion: PSYCH_DS_SCHEMA_VERSION,
		identifier: study.id,
		dateCreated: createdAt.toISOString(),
		keywords: ['Ensemble', 'synchronous online experiment'],
		...(scope.filter.versions ? { version: scope.filter.versions.join(', ') } : {}),
		variableMeasured
	};
}

/** README.md: the files, the filters, the events files and the codebook. */
export function buildReadme(input: {
	study: BundleStudy;
	scope: ExportScope;
	files: WrittenFile[];
	events: EventsSummary | null;
	variables: StudyVariable[];
	createdAt: Date;
}): string {
	const { study, scope, files, events, variables, createdAt } = input;
	const lines: string[] = [
		`# ${study.title || study.id}`,
		'',
		study.description?.trim() ?? '',
		'',
		`Exported from Ensemble on ${createdAt.toISOString()} (study id \`${study.id}\`). This folder follows`,
		`Psych-DS (${PSYCH_DS_SCHEMA_VERSION}): \`dataset_description.json\` describes every column of every`,
		'file under `data/` in its `variableMeasured` list.',
		'',
		'## Filters',
		'',
		...describeFilters(scope),
		'',
		'## Files',
		'',
		'| file | rows | contents |',
		'|---|---|---|',
		...files.map((file) => `| \`${file.path}\` | ${file.rows} | ${escapeCell(file.what)} |`),
		''
	];
	if (events && events.files > 0) {
		lines.push(
			'## Continuous ratings (BIDS events)',
			'',
			`${events.samples} rating samples of ${events.participants} participant(s) in ${events.files} file(s)`,
			'`data/sub-<participant>/sub-<participant>_task-<stage>_events.tsv` (tab separated, as in BIDS;',
			'labels are the participant and stage ids without punctuation: `p-3xk` is `sub-p3xk`).',
			'`onset` is the media time of the video in seconds, `duration` the media time until the next',
			'sample (the sample period for the last one and across seeks), `value` the slider, and',
			'`server_time` when it was sampled. `data/events.json` describes the columns and each stage’s',
			'scale. The same samples are rows of kind `video.rating` in the telemetry file.',
			''
		);
		if (events.malformed > 0) {
			lines.push(
				`${events.malformed} rating sample(s) with invalid values were left out of the events files.`,
				''
			);
		}
	}
	lines.push(
		'## Codebook',
		'',
		'Each question of the study, as the `stage` and `item` of the responses file and the',
		'`<stage>.<item>` column of the wide file.',
		''
	);
	if (variables.length === 0) {
		lines.push('The study asks no questions.', '');
	} else {
		lines.push(
			'| variable | stage | question | response | values | versions |',
			'|---|---|---|---|---|---|'
		);
		for (const variable of variables) {
			lines.push(
				`| \`${variable.name}\` | ${escapeCell(variable.stageTitle || variable.stageId)} | ${escapeCell(variable.questions.join(' / '))} | ${variable.responseType} | ${escapeCell(describeValues(variable))} | ${variable.versions.join(', ')} |`
			);
		}
		lines.push('');
	}
	return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

function describeFilters(scope: ExportScope): string[] {
	const { filter } = scope;
	return [
		`- Versions: ${filter.versions ? filter.versions.join(', ') : 'all'}`,
		`- Arrived: ${filter.from ? `from ${filter.from.toISOString()}` : 'any time'}${filter.to ? ` until ${filter.to.toISOString()}` : ''}`,
		`- Outcomes: ${filter.outcomes ? filter.outcomes.join(', ') || 'none' : 'all, including none yet'}`,
		`- Simulated participants (bots): ${filter.includeBots ? 'included' : 'left out'}`,
		`- External ids (e.g. Prolific): ${scope.includeExternalIds ? 'included in the participants file' : 'not included'}`
	];
}

function describeValues(variable: StudyVariable): string {
	const parts: string[] = [];
	if (variable.min !== null || variable.max !== null) {
		parts.push(`${variable.min ?? '…'} to ${variable.max ?? '…'}`);
	}
	const levels = variable.levels ?? [];
	// Labelled levels say what a code means; unlabelled ones (inner likert points) add nothing.
	const labelled = levels.filter((level) => level.label);
	if (labelled.length > 0) {
		parts.push(labelled.map(({ value, label }) => `${value} = ${label}`).join('; '));
	} else if (levels.length > 0) {
		parts.push(levels.map((level) => level.value).join('; '));
	}
	if (variable.multiple) parts.push('several may be ticked');
	return parts.join(', ') || 'free';
}

/** Markdown table cells: one line, no pipes. */
function escapeCell(text: string): string {
	return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}
