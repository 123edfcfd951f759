import type { Condition, Role } from '$lib/study';

/** A media-library item as the stage forms need it (the picker lists video and audio). */
export type DesignerMedia = {
	id: string;
	filename: string;
	kind: 'video' | 'audio' | 'image';
	durationSeconds: number | null;
};

/** What the stage forms need from the study around the stage being edited. */
export type DesignerContext = {
	roles: Role[];
	conditions: Condition[];
	media: DesignerMedia[];
	/** LiveKit settings are present; conversation stages cannot be published without them. */
	livekitConfigured: boolean;
};
