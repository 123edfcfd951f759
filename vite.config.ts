import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { realtimeDevPlugin } from './src/lib/server/realtime/vite-plugin.ts';

export default defineConfig({
	plugins: [sveltekit(), realtimeDevPlugin()],
	server: { port: 3000 }
});
