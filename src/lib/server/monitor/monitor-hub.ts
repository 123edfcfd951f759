import { CloseCode } from '../../protocol';
import { parseMonitorClientMessage, type MonitorServerMessage } from '../../monitor';
import { TokenBucketThrottle } from '../auth/throttle';
import type { AccessGrant } from '../realtime/grants';
import { DEFAULT_SOCKET_CAPS, IdentitySockets } from '../realtime/socket-caps';
import { StudyMonitor, type MonitorConnection, type StudyMonitorDeps } from './study-monitor';

export type MonitorHubOptions = StudyMonitorDeps & {
	/** A study nobody watches stays loaded this long, so a reload does not fold every room again. */
	lingerMs?: number;
	/** Dashboards one session may hold open here; the newest wins, older ones close 4410. */
	socketsPerSession?: number;
};

/** A dashboard only ever asks for a refresh: a few in a burst, then one a second. */
const RATE_BURST = 10;
const RATE_REFILL_MS = 1_000;
const LINGER_MS = 15_000;

/**
 * The study-monitor sockets of this replica: one `StudyMonitor` per study with a dashboard open
 * here, shared by all of them. Transport-agnostic like the room hub: driven by `open`,
 * `message`, `close`, so it is tested by feeding it messages.
 */
export class MonitorHub {
	readonly #options: MonitorHubOptions;
	readonly #monitors = new Map<string, StudyMonitor>();
	readonly #connections = new Map<MonitorConnection, StudyMonitor>();
	readonly #lingers = new Map<string, ReturnType<typeof setTimeout>>();
	readonly #limits = new TokenBucketThrottle<MonitorConnection>(RATE_BURST, RATE_REFILL_MS);
	readonly #sockets: IdentitySockets<MonitorConnection>;
	#closing = false;

	constructor(options: MonitorHubOptions) {
		this.#options = options;
		const cap = options.socketsPerSession ?? DEFAULT_SOCKET_CAPS.perSession;
		this.#sockets = new IdentitySockets((connection) => [{ key: connection.auth.sessionId, cap }]);
	}

	/** A dashboard connected (its access was checked at the upgrade): it gets the snapshot. */
	open(connection: MonitorConnection): void {
		if (this.#closing) {
			connection.close(CloseCode.GoingAway, 'server shutting down');
			return;
		}
		const studyId = connection.auth.studyId;
		clearTimeout(this.#lingers.get(studyId));
		this.#lingers.delete(studyId);
		let monitor = this.#monitors.get(studyId);
		if (!monitor) {
			monitor = new StudyMonitor(studyId, this.#options);
			this.#monitors.set(studyId, monitor);
			void monitor.start();
		}
		this.#connections.set(connection, monitor);
		monitor.add(connection);
		for (const replaced of this.#sockets.admit(connection)) {
			replaced.close(CloseCode.Replaced, 'replaced by a newer connection');
		}
	}

	/** Handles one frame. Never throws: bad input gets an error frame, floods a close. */
	message(connection: MonitorConnection, data: string | ArrayBuffer | Uint8Array): void {
		const monitor = this.#connections.get(connection);
		if (!monitor) return;
		if (!this.#limits.consume(connection, Date.now()).ok) {
			connection.close(CloseCode.RateLimited, 'rate limited');
			return;
		}
		const parsed =
			typeof data === 'string'
				? parseMonitorClientMessage(data)
				: { ok: false as const, message: 'Send JSON text frames.' };
		if (!parsed.ok) {
			const error: MonitorServerMessage = {
				type: 'error',
				code: 'invalid_message',
				message: parsed.message
			};
			connection.send(JSON.stringify(error));
			return;
		}
		// `refresh` is the only message: the whole picture again.
		monitor.sendSnapshot(connection);
	}

	close(connection: MonitorConnection): void {
		const monitor = this.#connections.get(connection);
		if (!monitor) return;
		this.#connections.delete(connection);
		this.#limits.forget(connection);
		this.#sockets.release(connection);
		monitor.remove(connection);
		if (monitor.connectionCount > 0 || this.#closing) return;
		const studyId = monitor.studyId;
		const timer = setTimeout(() => {
			this.#lingers.delete(studyId);
			if (monitor.connectionCount > 0) return;
			monitor.stop();
			if (this.#monitors.get(studyId) === monitor) this.#monitors.delete(studyId);
		}, this.#options.lingerMs ?? LINGER_MS);
		timer.unref?.();
		this.#lingers.set(studyId, timer);
	}

	/** The study's monitor on this replica, if a dashboard has it open (tests, the bench). */
	monitorOf(studyId: string): StudyMonitor | undefined {
		return this.#monitors.get(studyId);
	}

	get connectionCount(): number {
		return this.#connections.size;
	}

	/** Session ids behind the open dashboards (for revocation checks). */
	sessionIds(): Set<string> {
		return new Set([...this.#connections.keys()].map((connection) => connection.auth.sessionId));
	}

	/** The access grant behind each open dashboard (for the live access check). */
	grants(): { connection: MonitorConnection; grant: AccessGrant }[] {
		return [...this.#connections.keys()].map((connection) => ({
			connection,
			grant: connection.auth.grant
		}));
	}

	/** Closes every dashboard opened with one of these (revoked) sessions. */
	closeSessions(revoked: Set<string>): number {
		let closed = 0;
		for (const connection of this.#connections.keys()) {
			if (revoked.has(connection.auth.sessionId)) {
				connection.close(CloseCode.Unauthorized, 'session ended');
				closed++;
			}
		}
		return closed;
	}

	/** Closes every dashboard with 1001 (they reconnect elsewhere) and stops the monitors. */
	shutdown(): void {
		if (this.#closing) return;
		this.#closing = true;
		for (const connection of [...this.#connections.keys()]) {
			connection.close(CloseCode.GoingAway, 'server shutting down');
		}
		for (const timer of this.#lingers.values()) clearTimeout(timer);
		for (const monitor of this.#monitors.values()) monitor.stop();
		this.#monitors.clear();
	}
}
