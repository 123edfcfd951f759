import { log } from '../../log';
import type { BusHandler } from './types';

/** Runs a subscriber; a throwing handler must not stop delivery to the others. */
export function runHandler(
	handler: BusHandler,
	topic: string,
	payload: string,
	origin: string
): void {
	try {
		handler(payload, origin);
	} catch (error) {
		log.error('bus.handler_failed', { topic, error: describeError(error) });
	}
}

/** Runs an `onRecovered` listener, isolating its failures in the same way. */
export function runListener(listener: () => void): void {
	try {
		listener();
	} catch (error) {
		log.error('bus.recovered_listener_failed', { error: describeError(error) });
	}
}

export function describeError(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
