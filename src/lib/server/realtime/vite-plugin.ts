import type { Plugin, ViteDevServer } from 'vite';

const ROOM_SOCKET_PATH = /^\/realtime\/rooms\//;

/**
 * Serves room sockets under `vite dev` with the same upgrade decision and hub as production.
 * Only `/realtime/rooms/…` upgrades are touched; Vite's own HMR socket is left alone.
 */
export function realtimeDevPlugin(): Plugin {
	return {
		name: 'ensemble-realtime-dev',
		apply: 'serve',
		configureServer(server: ViteDevServer) {
			let handler: Promise<(req: never, socket: never, head: never) => boolean> | undefined;
			server.httpServer?.on('upgrade', (request, socket, head) => {
				if (!ROOM_SOCKET_PATH.test(request.url ?? '')) return;
				handler ??= server
					.ssrLoadModule('/src/lib/server/realtime/dev-server.ts')
					.then((module) => (module as typeof import('./dev-server')).createDevRealtime() as never);
				void handler.then(
					(handle) => handle(request as never, socket as never, head as never),
					(error: unknown) => {
						server.config.logger.error(`realtime dev server failed: ${(error as Error).message}`);
						socket.destroy();
					}
				);
			});
		}
	};
}
