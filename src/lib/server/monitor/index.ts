/**
 * The live study monitor's server side (docs/MONITOR.md): the study feed and the relay rooms
 * report to, one StudyMonitor per watched study, the monitor sockets' hub and upgrade, and the
 * interventions (room commands, manual matching).
 */
export { StudyFeed, studyTopic, type StudyFeedMessage } from './feed';
export { MonitorRelay } from './relay';
export { MonitorHub, type MonitorHubOptions } from './monitor-hub';
export {
	StudyMonitor,
	type MonitorAuth,
	type MonitorConnection,
	type StudyMonitorDeps
} from './study-monitor';
export { decideMonitorUpgrade, type MonitorUpgradeDecision } from './upgrade';
export { installStudyDoorbell, ringStudyDoorbell } from './doorbell';
export {
	MONITOR_COMMANDS,
	MonitorCommandRequestSchema,
	runMonitorCommand,
	type MonitorCommandRequest,
	type MonitorCommandResult
} from './commands';
export {
	formGroupManually,
	ManualMatchRequestSchema,
	type ManualMatchRequest,
	type ManualMatchResult
} from './match';
export { countOutcomes, listStudyRooms, readWaitingRoom } from './queries';
export { readMonitorSnapshot, type MonitorSnapshot } from './snapshot';
export { loadMonitorPage, type MonitorPageData } from './page';
