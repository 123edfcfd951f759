import type { BrowserContext } from '@playwright/test';

/**
 * A Bluetooth heart-rate strap for browsers that have none: `navigator.bluetooth` answers
 * `requestDevice` with a device whose Heart Rate Measurement characteristic (GATT 0x2A37,
 * encoded byte for byte as a strap does) notifies one beat at a time. Everything after the
 * radio — the app's parser, the telemetry over the room socket, the server's coherence and the
 * group display — is the real code.
 *
 * The heart breathes at 0.1 Hz (six breaths a minute), the rhythm coherence training aims
 * for. Beats come `speedup` times faster than real time, so the 64 s window coherence needs
 * fills in seconds; each R-R interval is still a real one (≈ 1 s).
 */
export async function installFakeHeartSensor(
	context: BrowserContext,
	options: { name: string; speedup: number; seed: number }
): Promise<void> {
	await context.addInitScript(({ name, speedup, seed }) => {
		let state = seed >>> 0;
		const random = () => {
			// mulberry32, as in src/lib/signals/synthetic.ts: a fixed seed, a fixed heart.
			state = (state + 0x6d2b79f5) >>> 0;
			let t = state;
			t = Math.imul(t ^ (t >>> 15), t | 1);
			t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
			return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
		};

		const characteristic = new EventTarget() as EventTarget & {
			value?: DataView;
			startNotifications(): Promise<unknown>;
		};
		let heartTime = 0;
		const beat = () => {
			const rr = 1000 + 150 * Math.sin(2 * Math.PI * 0.1 * heartTime) + (random() - 0.5) * 20;
			heartTime += rr / 1000;
			const view = new DataView(new ArrayBuffer(4));
			view.setUint8(0, 0x10); // flags: uint8 rate, R-R intervals present
			view.setUint8(1, Math.round(60_000 / rr));
			view.setUint16(2, Math.round((rr * 1024) / 1000), true);
			characteristic.value = view;
			characteristic.dispatchEvent(new Event('characteristicvaluechanged'));
			setTimeout(beat, rr / speedup);
		};
		let started = false;
		characteristic.startNotifications = async () => {
			if (!started) setTimeout(beat, 0);
			started = true;
			return characteristic;
		};

		const server = {
			connected: false,
			async connect() {
				server.connected = true;
				return server;
			},
			disconnect() {
				server.connected = false;
			},
			async getPrimaryService(service: string) {
				if (service !== 'heart_rate') throw new DOMException('no such service', 'NotFoundError');
				return { getCharacteristic: async () => characteristic };
			}
		};
		const device = Object.assign(new EventTarget(), { name, gatt: server });
		const requests: unknown[] = [];
		Object.defineProperty(window, '__bluetoothRequests', { value: requests });
		Object.defineProperty(navigator, 'bluetooth', {
			configurable: true,
			value: {
				async requestDevice(request: unknown) {
					requests.push(request);
					return device;
				}
			}
		});
	}, options);
}
