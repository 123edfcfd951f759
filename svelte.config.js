import adapter from 'svelte-adapter-bun';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	compilerOptions: { runes: true },
	kit: {
		adapter: adapter({ out: 'build' }),
		// Our `checkOrigin` hook enforces the Origin allowlist on every non-GET request, forms
		// included, against origins configured at run time (ORIGIN, ALLOWED_ORIGINS); Kit's own
		// check only knows one origin fixed at build time, so it is switched off here.
		csrf: { trustedOrigins: ['*'] },
		// Kit adds nonces/hashes for its own inline scripts; everything else comes from 'self'.
		csp: {
			mode: 'auto',
			directives: {
				'default-src': ['self'],
				'script-src': ['self'],
				// Svelte transitions and Vite's dev client inject <style> elements.
				'style-src': ['self', 'unsafe-inline'],
				'img-src': ['self', 'data:', 'blob:'],
				'media-src': ['self', 'blob:'],
				'connect-src': ['self'],
				'font-src': ['self'],
				'object-src': ['none'],
				'base-uri': ['self'],
				'form-action': ['self'],
				'frame-ancestors': ['none']
			}
		}
	}
};

export default config;
