/**
 * The wide dataset, like oTree's all-apps-wide: one row per participant, one column per stage
 * item (`<stageId>.<itemId>`). Columns come from the versions in the export, in version and
 * stage order; an item in several versions (or variants) is one column. Meta columns start
 * with an underscore after the dot (`<stageId>._status`), which no item id can.
 */
import type { QuestionItem, Stage, StudyDefinition } from '../../study';
import type { Executor } from '../db';
import { column, formatAnswer, formatNumber, formatTime, readField } from './cells';
import { ROOM_COLUMNS, RowBatcher, STUDY_COLUMNS, PARTICIPANT_COLUMNS } from './common';
import type { ExportContext } from './context';
import type { Column, ColumnType, Dataset, ExportScope, Row } from './dataset';
import {
	countParticipants,
	loadResponses,
	readParticipantBatches,
	type ExportParticipant,
	type ExportResponse
} from './participant-batches';

export const WIDE_PARTICIPANT_COLUMNS: Column[] = [
	...STUDY_COLUMNS,
	...PARTICIPANT_COLUMNS,
	...ROOM_COLUMNS,
	column(
		'status',
		'string',
		'Where the participant stands: consenting, waiting, in_room, finished, left.',
		{
			levels: ['consenting', 'waiting', 'in_room', 'finished', 'left']
		}
	),
	column('outcome', 'string', 'How their participation ended; empty while it has not.'),
	column('arrived_at', 'datetime', 'When they started the study (ISO 8601, UTC, ms).'),
	column('finished_at', 'datetime', 'When they got their outcome (ISO 8601, UTC, ms).')
];

/** What a wide column reads from a participant's response to its stage. */
type WideSource =
	| { kind: 'answer'; itemId: string }
	| { kind: 'agreed' }
	| { kind: 'option' }
	| { kind: 'rt' }
	| { kind: 'status' };

type WideColumn = { stageId: string; source: WideSource; column: Column };

const ITEM_TYPES: Record<QuestionItem['kind'], ColumnType> = {
	likert: 'number',
	slider: 'number',
	number: 'number',
	choice: 'string',
	// A JSON list as text: a `json` column would promise valid JSON even for odd stored values.
	checkboxes: 'string',
	short_text: 'string',
	long_text: 'string'
};

/** A short, one-line version of a prompt for a column description. */
function summarizePrompt(prompt: string): string {
	const line = prompt.replace(/\s+/g, ' ').trim();
	return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function itemColumn(stage: Stage, item: QuestionItem): Column {
	const options = item.kind === 'choice' || item.kind === 'checkboxes' ? item.options : null;
	return column(
		`${stage.id}.${item.id}`,
		ITEM_TYPES[item.kind],
		`${summarizePrompt(item.prompt) || item.id} (${item.kind}, stage “${stage.title || stage.id}”)${item.kind === 'checkboxes' ? '; the ticked values as a JSON list' : ''}.`,
		options && item.kind === 'choice' ? { levels: options.map((o) => o.value) } : {}
	);
}

/** Every item of a questionnaire stage, its variants' too, first appearance first. */
function listStageItems(stage: Extract<Stage, { type: 'questionnaire' }>): QuestionItem[] {
	const items: QuestionItem[] = [];
	for (const content of [stage.content, ...stage.variants.map((variant) => variant.content)]) {
		for (const item of content.items) {
			if (!items.some((known) => known.id === item.id)) items.push(item);
		}
	}
	return items;
}

/** The wide columns of one data stage (the stages whose answer is research data). */
function listStageColumns(stage: Stage): WideColumn[] {
	const title = stage.title || stage.id;
	const status: WideColumn = {
		stageId: stage.id,
		source: { kind: 'status' },
		column: column(
			`${stage.id}._status`,
			'string',
			`Stage “${title}”: submitted, incomplete (ended without an answer), or empty when not reached.`,
			{ levels: ['submitted', 'incomplete'] }
		)
	};
	switch (stage.type) {
		case 'questionnaire':
			return [
				...listStageItems(stage).map((item): WideColumn => ({
					stageId: stage.id,
					source: { kind: 'answer', itemId: item.id },
					column: itemColumn(stage, item)
				})),
				{
					stageId: stage.id,
					source: { kind: 'rt' },
					column: column(
						`${stage.id}._rt_ms`,
						'integer',
						`Stage “${title}”: milliseconds from the questions appearing to submit.`,
						{ unit: 'ms' }
					)
				},
				status
			];
		case 'consent':
			return [
				{
					stageId: stage.id,
					source: { kind: 'agreed' },
					column: column(`${stage.id}.agreed`, 'boolean', `Stage “${title}”: agreed to take part.`)
				},
				status
			];
		case 'group_choice':
			return [
				{
					stageId: stage.id,
					source: { kind: 'option' },
					column: column(`${stage.id}.option`, 'string', `Stage “${title}”: the option picked.`, {
						levels: stage.content.options.map((o) => o.value)
					})
				},
				status
			];
		default:
			return [];
	}
}

/**
 * The stage columns of the versions in the export (all when unfiltered), deduplicated by name;
 * a name whose type differs between versions becomes text.
 */
export function listWideColumns(
	definitions: Map<number, StudyDefinition>,
	versions: number[] | null
): WideColumn[] {
	const columns = new Map<string, WideColumn>();
	const chosen = [...definitions.keys()]
		.filter((version) => versions === null || versions.includes(version))
		.sort((a, b) => a - b);
	for (const version of chosen) {
		for (const stage of definitions.get(version)!.stages) {
			for (const wide of listStageColumns(stage)) {
				const known = columns.get(wide.column.name);
				if (!known) columns.set(wide.column.name, wide);
				else if (known.column.type !== wide.column.type) {
					known.column = { ...known.column, type: 'string', levels: undefined };
				}
			}
		}
	}
	return [...columns.values()];
}

function readWideCell(source: WideSource, response: ExportResponse | undefined): Row[string] {
	if (!response) return null;
	switch (source.kind) {
		case 'status':
			return response.status;
		case 'rt':
			return formatNumber(readField(response.response, 'rtMs'));
		case 'agreed':
			return formatAnswer(readField(response.response, 'agreed'));
		case 'option':
			return formatAnswer(readField(response.response, 'option'));
		case 'answer':
			return formatAnswer(readField(readField(response.response, 'answers'), source.itemId));
	}
}

function toWideRow(
	context: ExportContext,
	columns: WideColumn[],
	participant: ExportParticipant,
	responses: ExportResponse[]
): Row {
	const byStage = new Map(responses.map((response) => [response.stageId, response]));
	const row: Row = {
		study_id: context.scope.studyId,
		version: participant.version,
		participant_id: participant.id,
		role: participant.role,
		condition: participant.condition,
		is_bot: participant.isBot,
		room_id: participant.roomId,
		group:
			participant.roomId === null
				? null
				: (context.roomsById.get(participant.roomId)?.group ?? null),
		status: participant.status,
		outcome: participant.outcome,
		arrived_at: formatTime(participant.createdAt),
		finished_at: formatTime(participant.outcomeAt)
	};
	for (const wide of columns) {
		row[wide.column.name] = readWideCell(wide.source, byStage.get(wide.stageId));
	}
	return row;
}

async function* readWideRows(
	db: Executor,
	context: ExportContext,
	columns: WideColumn[]
): AsyncGenerator<Row[]> {
	const batcher = new RowBatcher();
	for await (const batch of readParticipantBatches(db, context.scope)) {
		const responses = await loadResponses(
			db,
			batch.map((p) => p.id)
		);
		for (const participant of batch) {
			batcher.push(toWideRow(context, columns, participant, responses.get(participant.id) ?? []));
		}
		const full = batcher.takeFull();
		if (full) yield full;
	}
	const rest = batcher.take();
	if (rest.length > 0) yield rest;
}

/** The wide dataset of an export. */
export function createWideDataset(db: Executor, context: ExportContext): Dataset {
	const scope: ExportScope = context.scope;
	const columns = listWideColumns(scope.definitions, scope.filter.versions);
	return {
		name: 'wide',
		description: 'One row per participant, one column per stage item (<stage>.<item>).',
		columns: [...WIDE_PARTICIPANT_COLUMNS, ...columns.map((wide) => wide.column)],
		batches: () => readWideRows(db, context, columns),
		count: () => countParticipants(db, scope)
	};
}
