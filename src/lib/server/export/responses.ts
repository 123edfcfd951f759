/**
 * The responses dataset, jsPsych-style: one row per participant × stage item. A questionnaire
 * answer gives one row per item (in the order the participant's version of the stage lists
 * them); consent, group choices and "continue" stages give one row; a stage that ended without
 * an answer gives one `incomplete` row.
 */
import { and, eq, sql } from 'drizzle-orm';
import { resolveStageContent, type Stage, type StudyDefinition } from '../../study';
import type { Executor } from '../db';
import { participants, stageResponses } from '../db/schema';
import { column, elapsedMs, formatAnswer, formatNumber, formatTime, readField } from './cells';
import { PARTICIPANT_COLUMNS, ROOM_COLUMNS, RowBatcher, STUDY_COLUMNS } from './common';
import type { ExportContext } from './context';
import type { Cell, Dataset, ExportScope, Row } from './dataset';
import { selectParticipants } from './filter';
import {
	loadResponses,
	readParticipantBatches,
	type ExportParticipant,
	type ExportResponse
} from './participant-batches';

export const RESPONSE_COLUMNS = [
	...STUDY_COLUMNS,
	...PARTICIPANT_COLUMNS,
	...ROOM_COLUMNS,
	column(
		'trial_index',
		'integer',
		"The response's position among the participant's stage responses (0 = first), like jsPsych's trial_index."
	),
	column('stage_id', 'string', 'The stage.'),
	column('stage_index', 'integer', "The stage's position in the study (0 = first)."),
	column('stage_type', 'string', 'The stage type (questionnaire, consent, group_choice, …).'),
	column(
		'item_id',
		'string',
		'The questionnaire item; `agreed` for consent, `option` for a group choice, empty for stages that only continue.'
	),
	column(
		'item_kind',
		'string',
		'The item type: likert, choice, checkboxes, slider, number, short_text, long_text; empty otherwise.'
	),
	column(
		'response',
		'string',
		'The answer: a number (likert point, slider, number), the option value, the text, true/false (consent), a JSON list (checkboxes); empty when unanswered.'
	),
	column(
		'rt_ms',
		'integer',
		'Questionnaires: milliseconds from the questions appearing to submit.',
		{
			unit: 'ms'
		}
	),
	column(
		'time_elapsed_ms',
		'integer',
		'Milliseconds from the participant starting the study to this response, like jsPsych’s time_elapsed.',
		{ unit: 'ms' }
	),
	column('submitted_at', 'datetime', 'When the response was stored (ISO 8601, UTC, ms).'),
	column(
		'status',
		'string',
		'submitted, or incomplete when the stage ended without the participant’s answer.',
		{ levels: ['submitted', 'incomplete'] }
	),
	column(
		'incomplete_reason',
		'string',
		'Why an incomplete stage has no answer: stage_ended, or the outcome the participant left with.'
	)
];

type Item = { id: string | null; kind: string | null; answer: Cell };

/** The participant's answers as items, in their stage's item order (unknown ids last). */
export function listAnsweredItems(stage: Stage | undefined, response: unknown): Item[] {
	// Group choices are stored as `{ option }` without a type (picks replace each other).
	const type =
		readField(response, 'type') ??
		(readField(response, 'option') !== undefined ? 'group_choice' : undefined);
	if (type === 'questionnaire') {
		const answers = readField(response, 'answers');
		if (typeof answers === 'object' && answers !== null && !Array.isArray(answers)) {
			const values = answers as Record<string, unknown>;
			const known = stage?.type === 'questionnaire' ? stage.content.items : [];
			const ids = Object.keys(values);
			const ordered = [
				...known.map((item) => item.id).filter((id) => ids.includes(id)),
				...ids.filter((id) => !known.some((item) => item.id === id)).sort()
			];
			if (ordered.length > 0) {
				return ordered.map((id) => ({
					id,
					kind: known.find((item) => item.id === id)?.kind ?? null,
					answer: formatAnswer(values[id])
				}));
			}
		}
	}
	if (type === 'consent') {
		return [{ id: 'agreed', kind: null, answer: formatAnswer(readField(response, 'agreed')) }];
	}
	if (type === 'group_choice') {
		return [{ id: 'option', kind: null, answer: formatAnswer(readField(response, 'option')) }];
	}
	return [{ id: null, kind: null, answer: null }];
}

/** The stage as the participant saw it (their role's and condition's variant). */
export function findParticipantStage(
	definition: StudyDefinition | undefined,
	participant: Pick<ExportParticipant, 'role' | 'condition'>,
	stageId: string
): Stage | undefined {
	const stage = definition?.stages.find((s) => s.id === stageId);
	return stage ? resolveStageContent(stage, participant) : undefined;
}

function toResponseRows(
	context: ExportContext,
	participant: ExportParticipant,
	responses: ExportResponse[]
): Row[] {
	const definition = context.scope.definitions.get(participant.version);
	const rows: Row[] = [];
	responses.forEach((response, trialIndex) => {
		const stage = findParticipantStage(definition, participant, response.stageId);
		const roomId = response.roomId ?? participant.roomId;
		for (const item of listAnsweredItems(stage, response.response)) {
			rows.push({
				study_id: context.scope.studyId,
				version: participant.version,
				participant_id: participant.id,
				role: participant.role,
				condition: participant.condition,
				is_bot: participant.isBot,
				room_id: roomId,
				group: roomId === null ? null : (context.roomsById.get(roomId)?.group ?? null),
				trial_index: trialIndex,
				stage_id: response.stageId,
				stage_index: response.stageIndex,
				stage_type: stage?.type ?? null,
				item_id: item.id,
				item_kind: item.kind,
				response: item.answer,
				rt_ms: formatNumber(readField(response.response, 'rtMs')),
				time_elapsed_ms: elapsedMs(participant.createdAt, response.submittedAt),
				submitted_at: formatTime(response.submittedAt),
				status: response.status,
				incomplete_reason: response.incompleteReason
			});
		}
	});
	return rows;
}

async function* readResponseRows(db: Executor, context: ExportContext): AsyncGenerator<Row[]> {
	const batcher = new RowBatcher();
	for await (const batch of readParticipantBatches(db, context.scope)) {
		const responses = await loadResponses(
			db,
			batch.map((p) => p.id)
		);
		for (const participant of batch) {
			for (const row of toResponseRows(context, participant, responses.get(participant.id) ?? [])) {
				batcher.push(row);
			}
		}
		const full = batcher.takeFull();
		if (full) yield full;
	}
	const rest = batcher.take();
	if (rest.length > 0) yield rest;
}

/**
 * Response rows the export would contain now: one per answered questionnaire item (at least
 * one per questionnaire), one per other stage response — as `listAnsweredItems` makes them.
 */
export async function countResponseRows(db: Executor, scope: ExportScope): Promise<number> {
	const answers = sql`${stageResponses.response}->'answers'`;
	const [row] = await db
		.select({
			n: sql<number>`coalesce(sum(case when ${stageResponses.response}->>'type' = 'questionnaire' and jsonb_typeof(${answers}) = 'object' then greatest(1, (select count(*) from jsonb_object_keys(${answers}))) else 1 end), 0)`.mapWith(
				Number
			)
		})
		.from(stageResponses)
		.innerJoin(participants, eq(participants.id, stageResponses.participantId))
		.where(and(selectParticipants(scope.studyId, scope.filter)));
	return row?.n ?? 0;
}

/** The responses dataset of an export. */
export function createResponsesDataset(db: Executor, context: ExportContext): Dataset {
	return {
		name: 'responses',
		description: 'One row per participant × stage item (jsPsych-like trial rows).',
		columns: RESPONSE_COLUMNS,
		batches: () => readResponseRows(db, context),
		count: () => countResponseRows(db, context.scope)
	};
}
