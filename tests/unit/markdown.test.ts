import { describe, expect, test } from 'bun:test';
import { renderMarkdown } from '../../src/lib/study/markdown';

/** Every tag name in the HTML. */
function tagsIn(html: string): string[] {
	return [...html.matchAll(/<([a-z][a-z0-9]*)\b/gi)].map((match) => match[1]!.toLowerCase());
}

/**
 * Every attribute name in the HTML's tags (onerror, onload, …). Quoted values are consumed
 * whole, so text inside an escaped value (`alt="x&quot; onerror=…"`) is not taken for a name.
 */
function attributesIn(html: string): string[] {
	return [...html.matchAll(/<[a-z][a-z0-9]*((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>/gi)].flatMap(
		(tag) =>
			[...(tag[1] ?? '').matchAll(/\s+([^\s=>]+)(?:="[^"]*")?/g)].map((match) =>
				match[1]!.toLowerCase()
			)
	);
}

/** Every href and src value, entities decoded the way a browser would read them. */
function urlsIn(html: string): string[] {
	return [...html.matchAll(/\s(?:href|src)="([^"]*)"/gi)].map((match) =>
		match[1]!
			.replace(/&#x([0-9a-f]+);?/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
			.replace(/&#(\d+);?/g, (_, dec) => String.fromCodePoint(Number(dec)))
			.replace(/&colon;/gi, ':')
			.replace(/&amp;/g, '&')
	);
}

const ALLOWED_TAGS = new Set([
	'p',
	'em',
	'strong',
	'a',
	'img',
	'ul',
	'ol',
	'li',
	'h1',
	'h2',
	'h3',
	'h4',
	'h5',
	'h6',
	'code',
	'pre',
	'blockquote',
	'hr',
	'br',
	'table',
	'thead',
	'tbody',
	'tr',
	'th',
	'td',
	's'
]);
const ALLOWED_ATTRIBUTES = new Set(['href', 'src', 'alt', 'title', 'target', 'rel', 'loading']);

/** The HTML has only Markdown's own tags and attributes, and no URL with a dangerous scheme. */
function expectSafe(html: string): void {
	for (const tag of tagsIn(html)) expect(ALLOWED_TAGS).toContain(tag);
	for (const attribute of attributesIn(html)) expect(ALLOWED_ATTRIBUTES).toContain(attribute);
	for (const url of urlsIn(html)) {
		// Browsers skip control characters and spaces before reading a scheme.
		// eslint-disable-next-line no-control-regex
		expect(url.replace(/[\s\u0000-\u001f]/g, '')).not.toMatch(/^(javascript|vbscript|data|file):/i);
	}
}

describe('raw HTML is shown as text, never run', () => {
	test.each([
		['a script', '<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
		['an image with onerror', '<img src=x onerror="alert(1)">', '&lt;img src=x onerror='],
		['an iframe', '<iframe src="https://evil.example"></iframe>', '&lt;iframe'],
		['an inline handler', 'Hi <b onmouseover="alert(1)">there</b>', '&lt;b onmouseover='],
		['a style block', '<style>body{display:none}</style>', '&lt;style&gt;'],
		['an svg', '<svg onload="alert(1)"></svg>', '&lt;svg onload=']
	])('%s', (_name, source, escaped) => {
		const html = renderMarkdown(source);
		expect(html).toContain(escaped);
		expectSafe(html);
	});

	test('inside a paragraph with Markdown around it', () => {
		const html = renderMarkdown('**Read this** <script>steal()</script> and *that*');
		expect(html).toContain('<strong>Read this</strong>');
		expect(html).toContain('<em>that</em>');
		expect(tagsIn(html)).not.toContain('script');
	});
});

describe('dangerous links and images are refused', () => {
	test.each([
		['javascript:', '[click](javascript:alert(1))'],
		['mixed case', '[click](JaVaScRiPt:alert(1))'],
		['a hex entity', '[click](jav&#x61;script:alert(1))'],
		['a decimal entity', '[click](&#106;avascript:alert(1))'],
		['a named entity for the colon', '[click](javascript&colon;alert(1))'],
		['an autolink', '<javascript:alert(1)>'],
		['a reference link', '[click][x]\n\n[x]: javascript:alert(1)'],
		['vbscript:', '[click](vbscript:msgbox(1))'],
		['a data: page', '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
		['a data: image link', '[click](data:image/png;base64,iVBORw0KGgo=)'],
		['file:', '[click](file:///etc/passwd)']
	])('a link with %s', (_name, source) => {
		const html = renderMarkdown(source);
		expect(tagsIn(html)).not.toContain('a');
		expectSafe(html);
	});

	test.each([
		['a data: image', '![pixel](data:image/png;base64,iVBORw0KGgo=)'],
		['a javascript: image', '![x](javascript:alert(1))'],
		['another origin without a scheme', '![tracker](//evil.example/pixel.png)'],
		['a mailto: image', '![x](mailto:someone@example.com)']
	])('an image from %s', (_name, source) => {
		const html = renderMarkdown(source);
		expect(tagsIn(html)).not.toContain('img');
		expectSafe(html);
	});

	test('an image from another origin leaves its alt text in the sentence', () => {
		expect(renderMarkdown('See ![the chart](//evil.example/chart.png) here')).toBe(
			'<p>See the chart here</p>\n'
		);
	});

	test('a refused URL leaves the Markdown as plain text', () => {
		expect(renderMarkdown('[click](javascript:alert(1))')).toBe(
			'<p>[click](javascript:alert(1))</p>\n'
		);
	});

	test('attribute values cannot break out of their quotes', () => {
		const html = renderMarkdown('![x" onerror="alert(1)](/a.png "t\\" onload=\\"alert(2)")');
		expect(tagsIn(html)).toEqual(['p', 'img']);
		expect(attributesIn(html)).toEqual(['src', 'alt', 'title', 'loading']);
		expectSafe(html);
	});
});

describe('Markdown still renders', () => {
	test('emphasis', () => {
		expect(renderMarkdown('*one* and **two**')).toBe(
			'<p><em>one</em> and <strong>two</strong></p>\n'
		);
	});

	test('lists', () => {
		expect(renderMarkdown('- a\n- b\n\n1. c\n2. d')).toBe(
			'<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol>\n<li>c</li>\n<li>d</li>\n</ol>\n'
		);
	});

	test('headings', () => {
		expect(renderMarkdown('## Your data\n\n### Contact')).toBe(
			'<h2>Your data</h2>\n<h3>Contact</h3>\n'
		);
	});

	test('code, inline and in blocks, escaped', () => {
		expect(renderMarkdown('Type `<b>` then\n\n```\nif (a < b) {}\n```')).toBe(
			'<p>Type <code>&lt;b&gt;</code> then</p>\n<pre><code>if (a &lt; b) {}\n</code></pre>\n'
		);
	});

	test.each([
		['https', '[site](https://example.org/a?b=1&c=2)', 'https://example.org/a?b=1&amp;c=2'],
		['http', '[site](http://example.org)', 'http://example.org'],
		['mailto', '[write](mailto:lab@example.org)', 'mailto:lab@example.org'],
		['a relative path', '[help](/help)', '/help'],
		['a bare URL', 'Visit https://example.org today', 'https://example.org']
	])('links: %s, opening in a new tab', (_name, source, href) => {
		const html = renderMarkdown(source);
		expect(html).toContain(`<a href="${href}" target="_blank" rel="noopener noreferrer">`);
	});

	test.each([
		['a media-library path', '![still](/api/media/abc123/file)', '/api/media/abc123/file'],
		['https', '![logo](https://example.org/logo.png)', 'https://example.org/logo.png']
	])('images: %s', (_name, source, src) => {
		expect(renderMarkdown(source)).toContain(`<img src="${src}" alt="`);
	});
});
