/**
 * LiveKit access tokens: what a browser needs to join a conversation's audio/video room. Minted
 * locally with the API secret (no call to LiveKit), short-lived, and carrying exactly the grants
 * of `conversationGrantsFor`, so LiveKit itself enforces who may publish what.
 */
import { AccessToken, TrackSource, type VideoGrant } from 'livekit-server-sdk';
import { conversationGrantsFor, type ConversationSource, type Stage } from '$lib/study';
import type { LiveKitSettings } from '../config/env';
import { livekitRoomName } from './room-name';

/**
 * Ten minutes: a leaked token is useless soon after, and grants follow the room closely (a
 * token minted for a conversation stage stops admitting new connections shortly after the
 * stage ends). LiveKit checks expiry only on the initial connection (its own reconnects use
 * tokens it refreshes), so a connected member is not cut off; the client fetches a fresh
 * token before expiry and whenever it connects anew.
 */
export const LIVEKIT_TOKEN_TTL_SECONDS = 10 * 60;

export type LiveKitToken = {
	/** The signed JWT. */
	token: string;
	/** Where the browser connects (`ws://` or `wss://`). */
	url: string;
	roomName: string;
	identity: string;
	/** Epoch ms when the token stops admitting joins. */
	expiresAt: number;
};

const SOURCES: Record<ConversationSource, TrackSource> = {
	microphone: TrackSource.MICROPHONE,
	camera: TrackSource.CAMERA
};

/**
 * The URL browsers connect to: LiveKit's signalling is a WebSocket, so an `http(s)://`
 * setting (also valid for the server API) is given to clients as `ws(s)://`.
 */
export function toClientUrl(url: string): string {
	return url.replace(/^http(s?):\/\//i, 'ws$1://');
}

async function signToken(
	config: LiveKitSettings,
	identity: string,
	grant: VideoGrant
): Promise<string> {
	const token = new AccessToken(config.apiKey, config.apiSecret, {
		identity,
		ttl: LIVEKIT_TOKEN_TTL_SECONDS
	});
	token.addGrant(grant);
	return token.toJwt();
}

export type ParticipantTokenInput = {
	config: LiveKitSettings;
	roomId: string;
	/** The pseudonymous participant id; never an external (recruitment platform) id. */
	participantId: string;
	/** The room's current stage as this member sees it (variants resolved). */
	stage: Stage;
	roleId: string | null;
	/** Epoch ms; the SDK stamps the JWT from the clock as it signs, so pass the current time. */
	now: number;
};

/** A participant's token for their room: identity = participant id, grants by stage and role. */
export async function mintParticipantToken(input: ParticipantTokenInput): Promise<LiveKitToken> {
	const roomName = livekitRoomName(input.roomId);
	const grants = conversationGrantsFor(input.stage, input.roleId);
	const token = await signToken(input.config, input.participantId, {
		roomJoin: true,
		room: roomName,
		canPublish: grants.canPublish,
		canPublishSources: grants.canPublishSources.map((source) => SOURCES[source]),
		canSubscribe: grants.canSubscribe,
		canPublishData: grants.canPublishData
	});
	return {
		token,
		url: toClientUrl(input.config.url),
		roomName,
		identity: input.participantId,
		expiresAt: input.now + LIVEKIT_TOKEN_TTL_SECONDS * 1000
	};
}

export type ObserverTokenInput = {
	config: LiveKitSettings;
	roomId: string;
	userId: string;
	/** Epoch ms; defaults to the current time. */
	now?: number;
};

/**
 * An experimenter's token to watch and listen: hidden (members never see an observer join,
 * so observing does not change the session), subscribe only, identity `observer-<userId>`.
 */
export async function mintObserverToken(input: ObserverTokenInput): Promise<LiveKitToken> {
	const roomName = livekitRoomName(input.roomId);
	const identity = `observer-${input.userId}`;
	const now = input.now ?? Date.now();
	const token = await signToken(input.config, identity, {
		roomJoin: true,
		room: roomName,
		hidden: true,
		canPublish: false,
		canSubscribe: true,
		canPublishData: false
	});
	return {
		token,
		url: toClientUrl(input.config.url),
		roomName,
		identity,
		expiresAt: now + LIVEKIT_TOKEN_TTL_SECONDS * 1000
	};
}
