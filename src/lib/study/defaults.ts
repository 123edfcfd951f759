import {
	OUTCOMES,
	PARTICIPANT_TEXT_KEYS,
	STUDY_SCHEMA_VERSION,
	type Outcome,
	type QuestionItem,
	type QuestionKind,
	type Stage,
	type StageContent,
	type StageType,
	type StudyDefinition
} from './schema';

/** Human names for the stage types, as the designer shows them. */
export const STAGE_TYPE_LABELS: Record<StageType, string> = {
	instructions: 'Instructions',
	consent: 'Consent',
	questionnaire: 'Questionnaire',
	video: 'Synchronized video',
	conversation: 'Conversation (audio/video)',
	chat: 'Chat',
	timer: 'Timer',
	group_choice: 'Group choice',
	wait: 'Wait for everyone',
	group_metric: 'Group metric',
	end: 'End'
};

export const QUESTION_KIND_LABELS: Record<QuestionKind, string> = {
	likert: 'Likert scale',
	choice: 'Multiple choice',
	checkboxes: 'Checkboxes',
	slider: 'Slider',
	number: 'Number',
	short_text: 'Short text',
	long_text: 'Long text'
};

/** The first `base`, `base-2`, `base-3`, … that is not taken. */
export function createUniqueId(base: string, taken: Iterable<string>): string {
	const used = new Set(taken);
	const clean =
		base
			.replace(/[^a-z0-9_-]/g, '_')
			.replace(/^[^a-z]+/, '')
			.slice(0, 40) || 'item';
	if (!used.has(clean)) return clean;
	for (let n = 2; ; n++) if (!used.has(`${clean}-${n}`)) return `${clean}-${n}`;
}

function createOutcomes(): StudyDefinition['settings']['outcomes'] {
	return Object.fromEntries(
		OUTCOMES.map((outcome) => [outcome, { completionCode: '', redirectUrl: '' }])
	) as Record<Outcome, { completionCode: string; redirectUrl: string }>;
}

/** A new, empty study: one group of two, one role, one condition, a welcome and an end. */
export function createBlankStudy(title = 'Untitled study'): StudyDefinition {
	return {
		schemaVersion: STUDY_SCHEMA_VERSION,
		settings: {
			title,
			description: '',
			participantTitle: '',
			language: 'en',
			texts: Object.fromEntries(
				PARTICIPANT_TEXT_KEYS.map((key) => [key, ''])
			) as StudyDefinition['settings']['texts'],
			session: { mode: 'matched', groupSize: 2, minGroupSize: 2, lobbyTimeoutSeconds: 300 },
			roles: [{ id: 'participant', name: 'Participant', minCount: 1, maxCount: null }],
			conditions: { assignment: 'balanced', list: [{ id: 'control', name: 'Control' }] },
			outcomes: createOutcomes(),
			prolific: false
		},
		stages: [createStage('instructions', []), createStage('end', ['instructions'])]
	};
}

/** Default content for a stage type: valid to save, and as close to publishable as possible. */
export function createStageContent<T extends StageType>(type: T): StageContent<T> {
	const contents: { [K in StageType]: StageContent<K> } = {
		instructions: { markdown: '', continueLabel: 'Continue' },
		consent: { markdown: '', agreeLabel: 'I agree', declineLabel: 'I do not agree' },
		questionnaire: { items: [createQuestionItem('likert', [])], randomizeOrder: false },
		video: { mediaId: null, continuousRating: null, controlRoles: [], bufferTimeoutSeconds: 30 },
		conversation: { audio: true, video: true, listenerRoles: [], record: false },
		chat: { markdown: '', maxMessageLength: 1000 },
		timer: {
			blocks: [
				{ label: 'Focus', kind: 'focus', seconds: 25 * 60 },
				{ label: 'Break', kind: 'break', seconds: 5 * 60 }
			],
			repeat: 1,
			goalPrompt: ''
		},
		group_choice: {
			prompt: '',
			options: [
				{ value: 'a', label: 'Option A' },
				{ value: 'b', label: 'Option B' }
			],
			consensusRequired: false,
			showChoicesLive: true
		},
		wait: { markdown: 'Waiting for everyone to arrive…' },
		group_metric: {
			label: 'Group mean',
			metric: 'mean',
			signal: 'rating',
			min: 0,
			max: 100,
			markdown: ''
		},
		end: { markdown: 'Thank you for taking part.', outcome: 'completed' }
	};
	return structuredClone(contents[type]) as StageContent<T>;
}

const DEFAULT_DURATIONS: Partial<Record<StageType, number>> = { chat: 300, wait: 120 };

/** A new stage of `type` with an id not in `takenIds`. */
export function createStage(type: StageType, takenIds: Iterable<string>): Stage {
	const durationSeconds = DEFAULT_DURATIONS[type] ?? null;
	return {
		type,
		id: createUniqueId(type, takenIds),
		title: STAGE_TYPE_LABELS[type],
		durationSeconds,
		advance: durationSeconds === null ? 'all_submitted' : 'first',
		dropout: { policy: 'pause', countdownSeconds: 60, then: 'continue' },
		content: createStageContent(type),
		variants: []
	} as Stage;
}

/** A new question of `kind` with an id not in `takenIds`. */
export function createQuestionItem(kind: QuestionKind, takenIds: Iterable<string>): QuestionItem {
	const base = { id: createUniqueId('q', takenIds), prompt: '', required: true };
	const options = [
		{ value: 'a', label: 'Option A' },
		{ value: 'b', label: 'Option B' }
	];
	switch (kind) {
		case 'likert':
			return {
				...base,
				kind,
				points: 7,
				minLabel: 'Strongly disagree',
				maxLabel: 'Strongly agree'
			};
		case 'choice':
			return { ...base, kind, options };
		case 'checkboxes':
			return { ...base, kind, options, minSelected: 0, maxSelected: null };
		case 'slider':
			return { ...base, kind, min: 0, max: 100, step: 1, minLabel: '', maxLabel: '' };
		case 'number':
			return { ...base, kind, min: null, max: null, integer: true };
		case 'short_text':
			return { ...base, kind, maxLength: 200 };
		case 'long_text':
			return { ...base, kind, maxLength: 5000 };
	}
}
