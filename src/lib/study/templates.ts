import type { StudyDefinition } from './schema';
import { focusRoom } from './templates/focus-room';
import { groupCoherence } from './templates/group-coherence';
import { hyperscanningVideo } from './templates/hyperscanning-video';
import { watchParty } from './templates/watch-party';

/** A ready-made study an experimenter can start from. */
export type StudyTemplate = {
	id: string;
	name: string;
	/** One or two sentences for the template picker. */
	summary: string;
	/** What the server must offer for the study to publish as it comes. */
	needs: { livekit: boolean; media: boolean };
	/**
	 * A new, complete definition. Given a media-library video as `demoMediaId`, it passes
	 * `validateStudy`; with null, its video stages wait for a video to be chosen.
	 */
	create(options: { demoMediaId: string | null }): StudyDefinition;
};

/** Every template, in the order the picker shows them. */
export const STUDY_TEMPLATES: readonly StudyTemplate[] = [
	hyperscanningVideo,
	focusRoom,
	watchParty,
	groupCoherence
];

/** The template with this id, or undefined. */
export function findStudyTemplate(id: string): StudyTemplate | undefined {
	return STUDY_TEMPLATES.find((template) => template.id === id);
}
