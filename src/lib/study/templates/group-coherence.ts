import type { StudyTemplate } from '../templates';
import { DROPOUT, ONE_CONDITION, buildStage, buildStudy } from './build';

// 30 s + 750 s + 120 s = 900 s: one session fills exactly one 15-minute cohort slot.
const PREPARATION_SECONDS = 30;
const ACTIVE_SECONDS = 750;
const INTEGRATION_SECONDS = 120;

const PREPARATION = `## Get ready

Sit comfortably with both feet on the floor and your hands resting in your lap.

- Check that your heart-rate sensor is on and connected.
- Silence your phone and notifications.
- Let your breathing settle into a slow, easy rhythm.

The session begins in 30 seconds.`;

const ACTIVE = `## Breathe together

Breathe in slowly for about five seconds, then out for about five seconds. Let your attention
rest on the area around your heart.

The display shows how closely the heart rhythms in the group move together. It rises as the group
settles into a shared rhythm. There is nothing to win: if your mind wanders, gently come back to
your breath.`;

const INTEGRATION = `## Rest

Let your breathing return to its natural rhythm. Notice how you feel now compared with the start
of the session.

Stay with this for two minutes; the session ends on its own.`;

const END = `## Thank you

The session is complete. Take a moment before you return to your day.

You are welcome to join another session at any time.`;

/** Scheduled cohorts breathe together while a live display shows their heart-rhythm coherence. */
export const groupCoherence: StudyTemplate = {
	id: 'group-coherence',
	name: 'Group coherence session',
	summary:
		'Cohorts of two to eight start every 15 minutes and breathe together for 12.5 minutes while a live display shows the coherence of their heart rhythms.',
	needs: { livekit: false, media: false },
	create: () =>
		buildStudy(
			{
				title: 'Group coherence session',
				description:
					'Scheduled group sessions every 15 minutes, 2 to 8 people per room. After 30 seconds of preparation the group breathes together for 12.5 minutes while a live display shows the coherence of their heart rhythms, computed from each member’s `hrv` telemetry; 2 minutes of quiet integration follow. Every participant needs a heart-rate sensor that streams HRV. A session lasts exactly one 15-minute slot.',
				participantTitle: 'Breathing together',
				texts: {
					waitingRoom:
						'The next group session starts soon, at the time shown. Please stay on this page, sit comfortably and make sure your heart-rate sensor is connected.',
					studyClosed: '',
					studyPaused: '',
					studyFull: ''
				},
				session: {
					mode: 'scheduled',
					intervalMinutes: 15,
					firstStartAt: '',
					minCohortSize: 2,
					maxCohortSize: 8
				},
				roles: [{ id: 'participant', name: 'Participant', minCount: 1, maxCount: null }],
				conditions: ONE_CONDITION
			},
			[
				buildStage(
					'instructions',
					'preparation',
					'Preparation',
					{
						durationSeconds: PREPARATION_SECONDS,
						advance: 'timer',
						dropout: DROPOUT.continueInPairs
					},
					{ markdown: PREPARATION, continueLabel: "I'm ready" }
				),
				buildStage(
					'group_metric',
					'coherence',
					'Breathing together',
					// Coherence is a group measure: it needs at least two hearts.
					{ durationSeconds: ACTIVE_SECONDS, advance: 'timer', dropout: DROPOUT.continueInPairs },
					{
						label: 'Group coherence',
						metric: 'coherence',
						signal: 'hrv',
						min: 0,
						// Coherence scores run 0–100 (bands: 0–40 low, 40–60 medium, 60–100 high).
						max: 100,
						markdown: ACTIVE
					}
				),
				buildStage(
					'instructions',
					'integration',
					'Integration',
					{
						durationSeconds: INTEGRATION_SECONDS,
						advance: 'timer',
						dropout: DROPOUT.continueAlone
					},
					{ markdown: INTEGRATION, continueLabel: 'Continue' }
				),
				buildStage(
					'end',
					'end',
					'Thank you',
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.continueAlone },
					{ markdown: END, outcome: 'completed' }
				)
			]
		)
};
