/** The errors a `RoomClient` hands its caller; re-exported from `room-client.ts`. */

/** Why a `send` failed: `source: 'server'` carries the server's stable `reason`. */
export class CommandError extends Error {
	constructor(
		/** The command's client-generated id. */
		readonly id: string,
		readonly source: 'server' | 'client',
		/**
		 * The server's reason (e.g. `forbidden`), or the client's own: `client_closed`,
		 * `frame_too_large`, `invalid_command`.
		 */
		readonly reason: string,
		message: string
	) {
		super(message);
		this.name = 'CommandError';
	}
}

/** Thrown by `url()` when no connection attempt can succeed: the client stops with `status`. */
export class RoomUnavailableError extends Error {
	constructor(
		readonly status: 'unauthorized' | 'not_found',
		message = `The room is not available (${status}).`
	) {
		super(message);
		this.name = 'RoomUnavailableError';
	}
}
