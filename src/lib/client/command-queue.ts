/**
 * Commands sent but not yet answered, in send order. Each waits for exactly one outcome (an
 * `ack`, a `rejected`, or our own event that committed it) and is transmitted again on every
 * new connection until it gets one; the server dedupes by id, so a resend is applied at most once.
 */
import { CommandError } from './errors';

// The server closes a socket that sends more than ~200 messages in a burst (RateLimited): a
// resend of a long queue after an outage must stay well below that, or it would loop forever.
export const DEFAULT_MAX_IN_FLIGHT_COMMANDS = 32;

type PendingCommand = {
	frame: string;
	/** The connection it was last transmitted on; resent on any later one. */
	sentOn?: number;
	resolve: (result: { seq: number }) => void;
	reject: (error: CommandError) => void;
};

/** The ordered queue of unacked commands, with a cap on how many are on the wire at once. */
export class CommandQueue {
	/** In send order (a Map keeps insertion order): resent in that order. */
	readonly #commands = new Map<string, PendingCommand>();
	readonly #maxInFlight: number;

	/** @param maxInFlight Commands on the wire without an answer; the rest wait their turn. */
	constructor(maxInFlight = DEFAULT_MAX_IN_FLIGHT_COMMANDS) {
		this.#maxInFlight = maxInFlight;
	}

	/** Commands not yet settled, whether on the wire or waiting. */
	get size(): number {
		return this.#commands.size;
	}

	/**
	 * Queues an encoded command frame under its id. Nothing is transmitted until {@link pump};
	 * the promise settles through {@link settle} or {@link rejectAll}.
	 */
	add(id: string, frame: string): Promise<{ seq: number }> {
		return new Promise((resolve, reject) => {
			this.#commands.set(id, { frame, resolve, reject });
		});
	}

	/**
	 * Settles a command with its committed seq or its rejection. Returns false when the id is
	 * unknown: already settled (an ack after our own event, a duplicate ack) or never ours.
	 * A true return frees a slot, so the caller should {@link pump} again.
	 */
	settle(id: string, outcome: { seq: number } | CommandError): boolean {
		const command = this.#commands.get(id);
		if (!command) return false;
		this.#commands.delete(id);
		if (outcome instanceof CommandError) command.reject(outcome);
		else command.resolve(outcome);
		return true;
	}

	/**
	 * Transmits, in send order, the commands not yet sent on `connection`, keeping at most
	 * `maxInFlight` on the wire. Stops at the first frame `transmit` refuses, so order holds:
	 * a later command never overtakes an earlier one that could not be sent.
	 *
	 * @param connection Identifies the current connection; a command sent on an earlier one
	 *   counts as lost (its answer could not arrive on this socket) and is sent again.
	 * @param transmit Sends one frame; false when the socket cannot take it.
	 */
	pump(connection: number, transmit: (frame: string) => boolean): void {
		let inFlight = 0;
		for (const command of this.#commands.values()) {
			if (command.sentOn !== connection) {
				if (inFlight >= this.#maxInFlight || !transmit(command.frame)) return;
				command.sentOn = connection;
			}
			inFlight++;
		}
	}

	/** Rejects every queued command (their outcome is unknown) and empties the queue. */
	rejectAll(errorFor: (id: string) => CommandError): void {
		for (const [id, command] of this.#commands) command.reject(errorFor(id));
		this.#commands.clear();
	}
}
