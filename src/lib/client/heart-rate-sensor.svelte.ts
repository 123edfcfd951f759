/**
 * A Bluetooth heart-rate sensor (chest strap, watch) connected through Web Bluetooth, for the
 * group-coherence studies: every notification's R-R intervals go to `onBeats`, which the room
 * sends as `signal.rr` telemetry. Chromium browsers only; others get a clear message.
 */
import { parseHeartRateMeasurement } from '$lib/signals';

/** The slice of Web Bluetooth used here (TypeScript's DOM library does not declare it). */
type Characteristic = EventTarget & {
	value?: DataView;
	startNotifications(): Promise<unknown>;
};
type GattServer = {
	connected: boolean;
	connect(): Promise<GattServer>;
	disconnect(): void;
	getPrimaryService(name: string): Promise<{
		getCharacteristic(name: string): Promise<Characteristic>;
	}>;
};
type Device = EventTarget & { name?: string; gatt?: GattServer };
type Bluetooth = { requestDevice(options: unknown): Promise<Device> };

export type SensorStatus =
	'unsupported' | 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed';

// A sensor that drops out (out of range, asleep) gets a few quick tries, then the button.
const RECONNECT_ATTEMPTS = 3;
const RECONNECT_DELAY_MS = 2_000;

export type HeartRateSensorOptions = {
	/** Called with each notification's R-R intervals (ms, oldest first) and when they arrived. */
	onBeats: (intervalsMs: number[], at: number) => void;
};

/** One participant's sensor; lives as long as the page, across the journey's steps. */
export class HeartRateSensor {
	#status = $state<SensorStatus>('idle');
	#bpm = $state<number | null>(null);
	#deviceName = $state<string | null>(null);
	#message = $state<string | null>(null);
	/** False until a notification carried R-R intervals: some sensors only send the rate. */
	#sendsIntervals = $state(false);
	#device: Device | undefined;
	#onBeats: HeartRateSensorOptions['onBeats'];
	#stopped = false;

	constructor(options: HeartRateSensorOptions) {
		this.#onBeats = options.onBeats;
		if (!bluetooth()) this.#status = 'unsupported';
	}

	get status(): SensorStatus {
		return this.#status;
	}
	get bpm(): number | null {
		return this.#bpm;
	}
	get deviceName(): string | null {
		return this.#deviceName;
	}
	/** Why the last attempt failed, in words for the participant. */
	get message(): string | null {
		return this.#message;
	}
	get sendsIntervals(): boolean {
		return this.#sendsIntervals;
	}

	/** Replaces where beats go (the room step sends them; earlier steps only show the rate). */
	setOnBeats(onBeats: HeartRateSensorOptions['onBeats']): void {
		this.#onBeats = onBeats;
	}

	/** Asks the browser for a heart-rate device. Must run from a click (a user gesture). */
	async connect(): Promise<void> {
		const api = bluetooth();
		if (!api) return;
		this.#status = 'connecting';
		this.#message = null;
		try {
			const device = await api.requestDevice({ filters: [{ services: ['heart_rate'] }] });
			this.#forget();
			this.#device = device;
			this.#deviceName = device.name ?? 'Heart-rate sensor';
			device.addEventListener('gattserverdisconnected', this.#onDisconnected);
			await this.#subscribe(device);
			this.#status = 'connected';
		} catch (error) {
			this.#status = 'failed';
			this.#message = describeFailure(error);
		}
	}

	/** Disconnects and forgets the device. */
	destroy(): void {
		this.#stopped = true;
		this.#forget();
	}

	async #subscribe(device: Device): Promise<void> {
		if (!device.gatt) throw new Error('This device offers no heart-rate service.');
		const server = await device.gatt.connect();
		const service = await server.getPrimaryService('heart_rate');
		const characteristic = await service.getCharacteristic('heart_rate_measurement');
		characteristic.addEventListener('characteristicvaluechanged', this.#onValue);
		await characteristic.startNotifications();
	}

	readonly #onValue = (event: Event): void => {
		const value = (event.target as Characteristic).value;
		if (!value) return;
		const parsed = parseHeartRateMeasurement(value);
		if (!parsed.ok) return;
		this.#bpm = parsed.measurement.bpm;
		if (parsed.measurement.rrIntervalsMs.length === 0) return;
		this.#sendsIntervals = true;
		this.#onBeats(parsed.measurement.rrIntervalsMs, Date.now());
	};

	readonly #onDisconnected = (): void => {
		void this.#reconnect();
	};

	/** Out of range or asleep: try again quietly a few times before asking for a click. */
	async #reconnect(): Promise<void> {
		const device = this.#device;
		if (!device || this.#stopped) return;
		this.#status = 'reconnecting';
		this.#bpm = null;
		for (let attempt = 1; attempt <= RECONNECT_ATTEMPTS; attempt++) {
			await new Promise((resolve) => setTimeout(resolve, RECONNECT_DELAY_MS));
			if (this.#stopped || this.#device !== device) return;
			try {
				await this.#subscribe(device);
				this.#status = 'connected';
				return;
			} catch {
				// Next attempt.
			}
		}
		this.#status = 'failed';
		this.#message = 'The sensor disconnected. Check that it is on and nearby, then connect again.';
	}

	#forget(): void {
		const device = this.#device;
		this.#device = undefined;
		if (!device) return;
		device.removeEventListener('gattserverdisconnected', this.#onDisconnected);
		if (device.gatt?.connected) device.gatt.disconnect();
	}
}

function bluetooth(): Bluetooth | undefined {
	if (typeof navigator === 'undefined') return undefined;
	return (navigator as Navigator & { bluetooth?: Bluetooth }).bluetooth;
}

/** Web Bluetooth's DOMException names, in words a participant can act on. */
function describeFailure(error: unknown): string {
	const name = error instanceof Error ? error.name : '';
	switch (name) {
		case 'NotFoundError':
			return 'No sensor was chosen. Make sure it is on and worn, then try again.';
		case 'SecurityError':
		case 'NotAllowedError':
			return 'The browser did not allow Bluetooth. Allow it for this site, then try again.';
		case 'NetworkError':
			return 'The sensor could not be reached. Bring it closer and try again.';
		default:
			return 'The sensor could not be connected. Check that it is on, then try again.';
	}
}
