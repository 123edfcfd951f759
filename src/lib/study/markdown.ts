import MarkdownIt, { type MarkdownIt as Renderer } from 'markdown-it';

/**
 * Participant-facing texts (consent, instructions, chat intros) are written by experimenters in
 * Markdown and shown with `{@html}`, so the rendering is the sanitizer: raw HTML is escaped
 * (`html: false`), and every URL passes an allowlist. Pure and isomorphic: the designer's
 * preview and the participant page render the same HTML.
 */

/** Schemes a link may use. Anything else with a scheme (javascript:, vbscript:, data:, file:) is refused. */
const LINK_SCHEMES = new Set(['http:', 'https:', 'mailto:']);
/** Images load without a click, so they are stricter: the web, or a path on this server (`/api/media/<id>/file`). */
const IMAGE_SCHEMES = new Set(['http:', 'https:']);

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
// Browsers drop these before reading a scheme (`java\tscript:` is `javascript:` to them), so
// the check must see the URL the way a browser will. markdown-it has already decoded entities.
// eslint-disable-next-line no-control-regex
const IGNORED_BY_BROWSERS = /[\u0000-\u0020\u007f-\u009f]/g;

/** The scheme of `url` as a browser would read it (`javascript:`), or null for a relative URL. */
function readScheme(url: string): string | null {
	const match = SCHEME.exec(url.replace(IGNORED_BY_BROWSERS, ''));
	return match?.[1] ? `${match[1].toLowerCase()}:` : null;
}

/** `//host`, and `/\host` (browsers read a backslash as a slash), leave this origin. */
function isProtocolRelative(url: string): boolean {
	return /^[\\/]{2}/.test(url.replace(IGNORED_BY_BROWSERS, ''));
}

/** A link target: http(s), mailto, or a relative URL. */
function isSafeLink(url: string): boolean {
	const scheme = readScheme(url);
	return scheme === null || LINK_SCHEMES.has(scheme);
}

/** An image source: http(s), or a path on this origin (not `//host`, which leaves it). */
function isSafeImage(url: string): boolean {
	const scheme = readScheme(url);
	return scheme === null ? !isProtocolRelative(url) : IMAGE_SCHEMES.has(scheme);
}

function createRenderer(): Renderer {
	// `breaks`: experimenters type in a textarea and expect a new line to stay a new line.
	const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

	// markdown-it's own check lets `data:image/...` through; ours refuses every scheme we have not
	// named. A refused URL leaves the Markdown as plain, escaped text.
	const validateLink = md.validateLink.bind(md);
	md.validateLink = (url) => validateLink(url) && isSafeLink(url);

	md.renderer.rules.link_open = (tokens, index, options, _env, self) => {
		// Texts are shown mid-study: a link must never navigate the participant out of the room.
		tokens[index]?.attrSet('target', '_blank');
		tokens[index]?.attrSet('rel', 'noopener noreferrer');
		return self.renderToken(tokens, index, options);
	};

	const renderImage = md.renderer.rules.image;
	md.renderer.rules.image = (tokens, index, options, env, self) => {
		const token = tokens[index];
		if (!token) return '';
		if (!isSafeImage(String(token.attrGet('src') ?? ''))) {
			// Keep the alt text so the sentence still reads, without loading anything.
			return md.utils.escapeHtml(self.renderInlineAsText(token.children ?? [], options, env));
		}
		token.attrSet('loading', 'lazy');
		return renderImage
			? renderImage(tokens, index, options, env, self)
			: self.renderToken(tokens, index, options);
	};

	return md;
}

// One instance for the whole process (or page): building the parser is the costly part.
const renderer = createRenderer();

/**
 * Renders experimenter-written Markdown to HTML that is safe to insert with `{@html}`: raw HTML
 * is shown as text, links are limited to http(s), mailto and relative URLs and open in a new tab
 * (`rel="noopener noreferrer"`), images to http(s) and same-origin paths.
 */
export function renderMarkdown(source: string): string {
	return renderer.render(source);
}
