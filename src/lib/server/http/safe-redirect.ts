/**
 * The one rule for redirecting to a place the caller named (`/login?next=…`): only a path on
 * this site, never another host. Browsers are generous readers of a Location header — they
 * drop tabs and line breaks anywhere, read `\` as `/`, treat `//host` as another site and
 * normalise `/.//host` into `//host` — so the target is checked the way a browser would read
 * it, and what is sent back is that reading, re-serialised: plain ASCII, one leading slash.
 */

/** Where to go when the caller named nothing usable. */
export const DEFAULT_AFTER_SIGN_IN = '/studies';

/** Longer than any path of ours; a longer target is not a page someone was on. */
const MAX_TARGET_LENGTH = 2000;

/** A base that never matches anything real, to resolve against (`.invalid` is reserved). */
const PROBE_ORIGIN = 'https://ensemble.invalid';

/**
 * C0 controls, DEL, backslash and every Unicode space or separator: a browser strips or
 * rewrites them before it resolves a URL, so nothing that holds one is sent back.
 */
const UNSAFE_CHARACTER =
	// eslint-disable-next-line no-control-regex -- control characters are what this refuses
	/[\u0000-\u001f\u007f\\\s\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]/u;

/**
 * A same-origin path for `target` (`/account?tab=2`, query and fragment kept), or `fallback`
 * when it could lead anywhere else or is not a plain path.
 */
export function safeRedirectPath(
	target: string | null | undefined,
	fallback: string = DEFAULT_AFTER_SIGN_IN
): string {
	if (!target || target.length > MAX_TARGET_LENGTH) return fallback;
	if (UNSAFE_CHARACTER.test(target)) return fallback;
	// A single leading slash: `//host` and `/\host` name another site.
	if (!target.startsWith('/') || target.startsWith('//')) return fallback;
	let url: URL;
	try {
		url = new URL(target, PROBE_ORIGIN);
	} catch {
		return fallback;
	}
	if (url.origin !== PROBE_ORIGIN) return fallback;
	const path = `${url.pathname}${url.search}${url.hash}`;
	// Dot segments can turn `/.//host` into `//host`: check the reading, not only the input.
	if (!path.startsWith('/') || path.startsWith('//')) return fallback;
	return path;
}
