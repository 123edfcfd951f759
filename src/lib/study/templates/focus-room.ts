import type { StudyTemplate } from '../templates';
import { DROPOUT, ONE_CONDITION, buildStage, buildStudy } from './build';

const FOCUS_SECONDS = 25 * 60;
const BREAK_SECONDS = 5 * 60;
const ROUNDS = 4;

const WELCOME = `## Welcome to the focus room

You will work alongside the others in this room for two hours: four rounds of **25 minutes of
focus**, each followed by a **5-minute break**.

- **Before the first round**, write down what you will work on. Everyone in the room sees the
  goals, which makes it easier to stick to yours.
- **During focus blocks**, stay with your task. Put your phone away and close what you do not need.
- **During breaks**, step away from the screen: stand up, stretch, drink some water.
- **At the end**, a short chat lets you tell the others how it went.

You can leave at any time; the room carries on without you.`;

const WRAP_UP = `## How did it go?

Tell the others what you got done, what got in your way, and what you will do next. Every bit
of progress counts, so be kind to yourself and to each other.`;

const END = `## Well done!

You finished four focus rounds. Take a proper break before your next task.

You can close this page now.`;

/** Drop-in co-working: Pomodoro rounds with a shared goal, then a short chat. */
export const focusRoom: StudyTemplate = {
	id: 'focus-room',
	name: 'Focus room',
	summary:
		'Drop-in co-working rooms of up to eight: four 25-minute focus blocks with 5-minute breaks, a shared goal, and a short chat at the end.',
	needs: { livekit: false, media: false },
	create: () =>
		buildStudy(
			{
				title: 'Focus room',
				description:
					'Open co-working rooms of up to 8 people. Participants start a room and share its invite code; everyone states a goal, works through four Pomodoro rounds (25 minutes of focus, 5 minutes of break), and reflects in a chat at the end. Goals and chat messages are recorded with the timer events.',
				participantTitle: 'Focus room',
				session: { mode: 'open', capacity: 8, participantsCreateRooms: true },
				roles: [{ id: 'participant', name: 'Participant', minCount: 1, maxCount: null }],
				conditions: ONE_CONDITION
			},
			[
				buildStage(
					'instructions',
					'welcome',
					'Welcome',
					// Three minutes to read, so one late reader does not hold the room back.
					{ durationSeconds: 180, advance: 'first', dropout: DROPOUT.continueAlone },
					{ markdown: WELCOME, continueLabel: 'Start focusing' }
				),
				buildStage(
					'timer',
					'focus',
					'Focus session',
					{
						durationSeconds: (FOCUS_SECONDS + BREAK_SECONDS) * ROUNDS,
						advance: 'timer',
						dropout: DROPOUT.continueAlone
					},
					{
						blocks: [
							{ label: 'Focus', kind: 'focus', seconds: FOCUS_SECONDS },
							{ label: 'Break', kind: 'break', seconds: BREAK_SECONDS }
						],
						repeat: ROUNDS,
						goalPrompt: 'What will you work on?'
					}
				),
				buildStage(
					'chat',
					'wrap_up',
					'Wrap-up',
					{ durationSeconds: 600, advance: 'first', dropout: DROPOUT.continueAlone },
					{ markdown: WRAP_UP, maxMessageLength: 1000 }
				),
				buildStage(
					'end',
					'end',
					'Done',
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.continueAlone },
					{ markdown: END, outcome: 'completed' }
				)
			]
		)
};
