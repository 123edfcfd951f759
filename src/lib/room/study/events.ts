/**
 * The events a study room logs. Every time an event needs is in its payload (decided once, at
 * decide time), so folding the log again anywhere gives the same state whatever the commit time.
 */
import type { PlaybackSchedule } from '../../sync/schedule';
import type { Outcome } from '../../study';
import type { AvRecordPayload } from './commands';
import type { PlaybackCause } from './playback';
import type { ChatMessage } from './chat';
import type { NewStudyMember, PauseReason, RoomMessage } from './state';
import type { TimerPosition } from './timer';

/** What moved the room on; kept for the data export. */
export type AdvanceCause = 'experimenter' | 'timer' | 'all_submitted' | 'wait_timeout' | 'dropout';

export type StudyEvent =
	| { name: 'member.joined'; payload: NewStudyMember & { at: number } }
	| {
			/**
			 * Disconnects carry `at`, when the last socket closed, and `absentAt`, when the member
			 * counts as gone unless they come back (absent from events logged before both existed).
			 */
			name: 'member.connection';
			payload: { memberId: string; connected: boolean; at?: number; absentAt?: number };
	  }
	| { name: 'member.presence'; payload: { memberId: string; present: boolean; at: number } }
	| {
			name: 'stage.submitted';
			payload: { stageId: string; memberId: string; response: unknown; at: number };
	  }
	| {
			name: 'group_choice.picked';
			payload: { stageId: string; memberId: string; option: string; at: number };
	  }
	| {
			name: 'stage.advanced';
			payload: {
				fromStageId: string;
				toStageId: string;
				toIndex: number;
				at: number;
				deadline: number | null;
				cause: AdvanceCause;
			};
	  }
	| { name: 'timer.block_started'; payload: TimerPosition & { stageId: string; at: number } }
	| { name: 'member.outcome'; payload: { memberId: string; outcome: Outcome; at: number } }
	/** The experimenter removed a member; the `member.outcome` with the same outcome follows. */
	| { name: 'member.removed'; payload: { memberId: string; outcome: Outcome; at: number } }
	/** A message from the experimenter to the room (`memberId` null) or to one member. */
	| { name: 'room.message'; payload: RoomMessage }
	| {
			/**
			 * A data stage ended for a member without their answer (incomplete.ts): the stage
			 * moved on (`stage_ended`), or they got an outcome in the middle of it (its name).
			 */
			name: 'stage.incomplete';
			payload: { stageId: string; memberId: string; reason: 'stage_ended' | Outcome; at: number };
	  }
	| {
			name: 'room.paused';
			payload: {
				since: number;
				resumeDeadline: number | null;
				reason: PauseReason;
				missing: string[];
			};
	  }
	| { name: 'room.resumed'; payload: { at: number; pausedMs: number } }
	| { name: 'room.finished'; payload: { at: number; outcome: Outcome } }
	| { name: 'media.buffered'; payload: { stageId: string; memberId: string; at: number } }
	| {
			/** The video's schedule from now on; `by` is who controlled it (null: the room). */
			name: 'playback.scheduled';
			payload: {
				stageId: string;
				schedule: PlaybackSchedule;
				cause: PlaybackCause;
				by: string | null;
				at: number;
			};
	  }
	| { name: 'av.recorded'; payload: AvRecordPayload }
	| { name: 'chat.sent'; payload: ChatMessage }
	| { name: 'goal.set'; payload: { stageId: string; memberId: string; text: string; at: number } };

export type StudyEventName = StudyEvent['name'];
