/**
 * Group formation: the waiting room, matched groups, open rooms with invite codes and
 * scheduled cohorts. Every change runs under the study's advisory lock (lock.ts).
 */
export { formGroups, type FormOptions } from './matched';
export { formCohort, type FormCohortResult } from './scheduled';
export { joinOpenRoom, createOpenRoom, countRoomMembers, type OpenRoomRequest } from './open';
export {
	joinWaitingRoom,
	touchWaiting,
	leaveWaitingRoom,
	describeWaitingRoom,
	type WaitingRoomView
} from './waiting';
export { GHOST_GRACE_MS, type FormationResult, type FormedGroup, type GivenOutcome } from './rooms';
export { nextCohortStart, splitCohort } from './schedule';
export { expectedWait } from './estimate';
export { withStudyLock } from './lock';
