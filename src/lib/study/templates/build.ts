import { createBlankStudy } from '../defaults';
import type {
	AdvanceRule,
	DropoutPolicy,
	StageContent,
	StageOf,
	StageType,
	StudyDefinition,
	StudySettings
} from '../schema';

/** How a stage moves on and what happens when someone leaves during it. */
export type StageTiming = {
	/** Seconds, or null for no time limit. */
	durationSeconds: number | null;
	advance: AdvanceRule;
	dropout: DropoutPolicy;
};

/** A stage with no variants: templates address everyone the same way. */
export function buildStage<T extends StageType>(
	type: T,
	id: string,
	title: string,
	timing: StageTiming,
	content: StageContent<T>
): StageOf<T> {
	return { type, id, title, ...timing, content, variants: [] } as unknown as StageOf<T>;
}

/**
 * A definition from the blank study's settings (every participant text on the built-in wording,
 * every outcome without code or redirect) with `settings` laid over them. Nothing in it is shared
 * with another call.
 */
export function buildStudy(
	settings: Partial<StudySettings> & Pick<StudySettings, 'title' | 'session' | 'roles'>,
	stages: StudyDefinition['stages']
): StudyDefinition {
	const blank = createBlankStudy(settings.title);
	// A clone, so stages sharing a DROPOUT policy do not share one object an editor could mutate.
	return structuredClone({ ...blank, settings: { ...blank.settings, ...settings }, stages });
}

/** Dropout policies the templates share. */
export const DROPOUT = {
	/**
	 * Dyadic and group measures are worthless with someone missing, so the room waits a minute
	 * (a reload or a flaky connection) and then ends with the dropout outcome.
	 */
	waitThenEnd: { policy: 'pause', countdownSeconds: 60, then: 'end' },
	/** Waits for a reconnect, then carries on with whoever is left. */
	waitThenContinue: { policy: 'pause', countdownSeconds: 60, then: 'continue' },
	/** Individual work: one person leaving does not hold up the others. */
	continueAlone: { policy: 'continue', minMembers: 1 },
	/** Needs someone to talk to: ends once fewer than two are left. */
	continueInPairs: { policy: 'continue', minMembers: 2 }
} as const satisfies Record<string, DropoutPolicy>;

/** Templates are not experiments yet: one condition, for the experimenter to split later. */
export const ONE_CONDITION: StudySettings['conditions'] = {
	assignment: 'balanced',
	list: [{ id: 'main', name: 'Main' }]
};
