import type { StudyTemplate } from '../templates';
import { DROPOUT, ONE_CONDITION, buildStage, buildStudy } from './build';

const WELCOME = `## Welcome to the watch party

You will watch a video together with everyone in this room. Here is what happens:

1. **The video.** It plays for everyone at the same moment. The host can pause, rewind or skip;
   everyone else follows along.
2. **Chat.** Share your first reactions in writing.
3. **Conversation.** Talk it over with your camera and microphone. Your browser will ask for
   permission first, and you can turn your camera off at any time.

If you can, use headphones so that the others do not hear an echo.`;

const CHAT = `## What did you think?

Share your first reactions: a moment that stood out, something that surprised you, or a question
you would like to ask the others.`;

const END = `## Thanks for watching together!

The party is over. You can close this page now.`;

/** Friends watch a video in sync under a host's control, then chat and talk. */
export const watchParty: StudyTemplate = {
	id: 'watch-party',
	name: 'Watch party',
	summary:
		'Up to six people join with an invite code and watch a video in sync while the host controls playback, then chat and talk on camera.',
	needs: { livekit: true, media: true },
	create: ({ demoMediaId }) =>
		buildStudy(
			{
				title: 'Watch party',
				description:
					'Open rooms of up to 6 people. Whoever starts a room is its host and shares the invite code; the host can pause and seek, guests follow. After the video the room chats, then talks on audio and video (needs LiveKit). Choose your own video before publishing.',
				participantTitle: 'Watch party',
				session: { mode: 'open', capacity: 6, participantsCreateRooms: true },
				roles: [
					{ id: 'host', name: 'Host', minCount: 1, maxCount: 1 },
					{ id: 'guest', name: 'Guest', minCount: 0, maxCount: null }
				],
				conditions: ONE_CONDITION
			},
			[
				buildStage(
					'instructions',
					'welcome',
					'Welcome',
					{ durationSeconds: 300, advance: 'first', dropout: DROPOUT.continueAlone },
					{ markdown: WELCOME, continueLabel: 'Join the party' }
				),
				buildStage(
					'video',
					'video',
					'Video',
					// Waits a minute for a reload (the host may be the one who dropped), then plays on.
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.waitThenContinue },
					{
						mediaId: demoMediaId,
						continuousRating: null,
						controlRoles: ['host'],
						bufferTimeoutSeconds: 30
					}
				),
				buildStage(
					'chat',
					'chat',
					'Chat',
					{ durationSeconds: 600, advance: 'first', dropout: DROPOUT.continueInPairs },
					{ markdown: CHAT, maxMessageLength: 1000 }
				),
				buildStage(
					'conversation',
					'conversation',
					'Talk together',
					{ durationSeconds: 900, advance: 'first', dropout: DROPOUT.continueInPairs },
					{ audio: true, video: true, listenerRoles: [], record: false }
				),
				buildStage(
					'end',
					'end',
					'Thanks for watching',
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.continueAlone },
					{ markdown: END, outcome: 'completed' }
				)
			]
		)
};
