import type { Stage } from './schema';

/**
 * Who may do what in a conversation's audio/video room: the rules the server turns into LiveKit
 * token grants. Pure, so the client can show the same expectations (muted controls for
 * listeners) without asking.
 */

/** A track a member may publish, named as LiveKit names track sources. */
export type ConversationSource = 'microphone' | 'camera';

export type ConversationGrants = {
	canPublish: boolean;
	/** Only these sources may be published; empty when `canPublish` is false. */
	canPublishSources: ConversationSource[];
	canSubscribe: boolean;
	/** Always false: the room socket carries every message, so nothing bypasses the log. */
	canPublishData: boolean;
};

const NO_GRANTS: ConversationGrants = {
	canPublish: false,
	canPublishSources: [],
	canSubscribe: false,
	canPublishData: false
};

/**
 * The grants of a member in role `roleId` on `stage`: on a `conversation` stage, a role in
 * `listenerRoles` subscribes only; everyone else publishes the kinds the stage enables (audio →
 * microphone, video → camera) and subscribes. Any other stage grants nothing. Pass the stage
 * as the member sees it (`resolveStageContent`), so a variant's settings apply.
 */
export function conversationGrantsFor(stage: Stage, roleId: string | null): ConversationGrants {
	if (stage.type !== 'conversation') return { ...NO_GRANTS, canPublishSources: [] };
	const content = stage.content;
	const listens = roleId !== null && content.listenerRoles.includes(roleId);
	const sources: ConversationSource[] = [];
	if (!listens && content.audio) sources.push('microphone');
	if (!listens && content.video) sources.push('camera');
	return {
		canPublish: sources.length > 0,
		canPublishSources: sources,
		canSubscribe: true,
		canPublishData: false
	};
}
