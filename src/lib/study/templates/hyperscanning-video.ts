import type { StudyTemplate } from '../templates';
import { DROPOUT, ONE_CONDITION, buildStage, buildStudy } from './build';

const CONSENT = `## Information and consent

Please read this page carefully before you decide whether to take part.

### What this study is about

We study how people experience a video when they watch it at the same moment as someone else.
[Describe your research question in one or two sentences.]

### What you will do

You will be paired with one other participant. Together, you will:

1. read a short set of instructions,
2. watch a video of about [N] minutes that plays for both of you at the same time,
3. move a slider while you watch to show how engaging each moment is, and
4. answer a few short questions.

The whole study takes about **[15] minutes**. You will not see, hear or chat with the other
participant, and neither of you will learn who the other is.

### Risks and benefits

There are no known risks beyond those of everyday computer use. [Describe any content in the
video that could be upsetting, or say that there is none.] You will not benefit directly, but
your answers help us understand how shared experiences work.

### Payment

You will receive [amount] for completing the study. If the study ends early because your partner
leaves or because of a technical problem, you will be [paid for the time you spent].

### Your data

We record your slider ratings, your answers and technical details such as playback timing. We do
**not** record your camera or microphone. Your Prolific ID is stored apart from your answers and
is used only to pay you. The data is stored on [where], analysed without names, kept for
[how long], and may be shared with other researchers in anonymous form.

### Taking part is voluntary

You can stop at any time by closing this page, without giving a reason. [Say what happens to data
collected before someone stops.]

### Contact

Researcher: [name, email address]. This study was approved by [ethics committee, reference
number]. If you have concerns about how it is run, contact [ethics office email address].

By selecting **I agree**, you confirm that you are at least 18 years old, that you have read this
information, and that you agree to take part.`;

const INSTRUCTIONS = `## How this works

You have been paired with another participant. When you both continue, a video starts for
**both of you at the same moment**. It stays in sync, so you cannot pause or skip it.

**While the video plays**, use the slider below it to show how engaging each moment is for you:

- move it **to the right** when the video holds your attention,
- move it **to the left** when it does not,
- keep adjusting it as the video goes on. There are no right or wrong answers.

Before you continue:

- put on headphones or turn your sound on,
- close other tabs and silence notifications,
- keep this window open and in front until the end.

A few short questions follow the video.`;

const END = `## Thank you!

You have completed the study and your responses have been saved.

If you came from Prolific, you will be taken back there to confirm your participation. If that
does not happen within a few seconds, copy the completion code shown on this page into Prolific.`;

/** Matched dyads watch one video in sync and rate it continuously: inter-subject correlation. */
export const hyperscanningVideo: StudyTemplate = {
	id: 'hyperscanning-video',
	name: 'Hyperscanning video study',
	summary:
		'Pairs watch the same video in sync and rate how engaging each moment is, ten times a second, then answer a short questionnaire. Recruits from Prolific.',
	needs: { livekit: false, media: true },
	create: ({ demoMediaId }) =>
		buildStudy(
			{
				title: 'Hyperscanning video study',
				description:
					'Pairs of participants watch the same video in sync and rate, moment by moment, how engaging it is (0–100, 10 samples per second). Both ratings share the server clock, so they can be aligned to compute inter-subject correlation. Before publishing: choose your own video, fill in the bracketed parts of the consent text, and add your Prolific completion codes under Outcomes.',
				participantTitle: 'Watching a video together',
				texts: {
					waitingRoom:
						'Thank you for joining! We are pairing you with another participant. This usually takes a minute or two, and never more than 10 minutes. Please keep this tab open: the study starts on its own.',
					studyClosed: '',
					studyPaused: '',
					studyFull: ''
				},
				session: { mode: 'matched', groupSize: 2, minGroupSize: 2, lobbyTimeoutSeconds: 600 },
				roles: [{ id: 'participant', name: 'Participant', minCount: 2, maxCount: 2 }],
				conditions: ONE_CONDITION,
				prolific: true
			},
			[
				buildStage(
					'consent',
					'consent',
					'Consent',
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.waitThenEnd },
					{
						markdown: CONSENT,
						agreeLabel: 'I agree to take part',
						declineLabel: 'I do not want to take part'
					}
				),
				buildStage(
					'instructions',
					'instructions',
					'Instructions',
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.waitThenEnd },
					{ markdown: INSTRUCTIONS, continueLabel: "I'm ready" }
				),
				buildStage(
					'video',
					'video',
					'Video',
					// The stage ends when both have seen the video to its end.
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.waitThenEnd },
					{
						mediaId: demoMediaId,
						continuousRating: {
							label: 'How engaging is this moment?',
							min: 0,
							max: 100,
							minLabel: 'Not engaging at all',
							maxLabel: 'Extremely engaging',
							// 10 Hz resolves changes within a scene yet stays light on the network.
							sampleRateHz: 10
						},
						controlRoles: [],
						bufferTimeoutSeconds: 30
					}
				),
				buildStage(
					'questionnaire',
					'questionnaire',
					'About the video',
					// Answers are individual: a partner leaving now must not cost the other their data.
					{ durationSeconds: null, advance: 'all_submitted', dropout: DROPOUT.continueAlone },
					{
						randomizeOrder: false,
						items: [
							{
								id: 'engaging_overall',
								kind: 'likert',
								prompt: 'Overall, the video was engaging.',
								required: true,
								points: 7,
								minLabel: 'Strongly disagree',
								maxLabel: 'Strongly agree'
							},
							{
								id: 'shared_experience',
								kind: 'likert',
								prompt:
									'While watching, I felt that I was sharing the experience with the other participant.',
								required: true,
								points: 7,
								minLabel: 'Strongly disagree',
								maxLabel: 'Strongly agree'
							},
							{
								id: 'attention',
								kind: 'choice',
								prompt: 'How closely did you watch the video?',
								required: true,
								options: [
									{ value: 'all', label: 'I watched all of it closely' },
									{ value: 'most', label: 'I watched most of it closely' },
									{ value: 'little', label: 'I was distracted for much of it' }
								]
							},
							{
								id: 'seen_before',
								kind: 'choice',
								prompt: 'Had you seen this video before today?',
								required: true,
								options: [
									{ value: 'yes', label: 'Yes' },
									{ value: 'no', label: 'No' },
									{ value: 'unsure', label: 'I am not sure' }
								]
							},
							{
								id: 'problems',
								kind: 'checkboxes',
								prompt: 'Did you notice any of these problems? Select all that apply.',
								required: false,
								options: [
									{ value: 'stutter', label: 'The video stuttered or stopped' },
									{ value: 'sound', label: 'The sound was missing or out of step' },
									{ value: 'slider', label: 'The slider did not respond' }
								],
								minSelected: 0,
								maxSelected: null
							},
							{
								id: 'comments',
								kind: 'long_text',
								prompt: 'Is there anything else you would like to tell us? (optional)',
								required: false,
								maxLength: 2000
							}
						]
					}
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
