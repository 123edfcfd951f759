/**
 * Starting and stopping LiveKit recordings (Egress) with failures as values, like service.ts.
 * A room composite (everyone's audio and video in one grid) written as an MP4 where the egress
 * service stores files: its own disk, or the bucket its configuration names.
 */
import { EgressClient, EncodedFileOutput, EncodedFileType } from 'livekit-server-sdk';
import type { LiveKitSettings } from '../config/env';
import { callLiveKit, LIVEKIT_REQUEST_TIMEOUT_MS, type LiveKitResult } from './service';

export type StartedEgress = { egressId: string; filepath: string; status: string };

export type EgressApi = {
	/** Records LiveKit room `roomName` into `filepath` (egress templates such as {time} allowed). */
	startRoomComposite(roomName: string, filepath: string): Promise<LiveKitResult<StartedEgress>>;
	stop(egressId: string): Promise<LiveKitResult<{ status: string }>>;
};

export function createEgressApi(config: LiveKitSettings): EgressApi {
	const timeoutMs = LIVEKIT_REQUEST_TIMEOUT_MS;
	const client = new EgressClient(config.url, config.apiKey, config.apiSecret, {
		requestTimeout: timeoutMs / 1000
	});
	const call = <T>(request: () => Promise<T>) => callLiveKit(config, timeoutMs, request);
	return {
		startRoomComposite: (roomName, filepath) =>
			call(async () => {
				const output = new EncodedFileOutput({ fileType: EncodedFileType.MP4, filepath });
				const info = await client.startRoomCompositeEgress(
					roomName,
					{ file: output },
					{
						layout: 'grid'
					}
				);
				return { egressId: info.egressId, filepath, status: String(info.status) };
			}),
		stop: (egressId) =>
			call(async () => ({ status: String((await client.stopEgress(egressId)).status) }))
	};
}
