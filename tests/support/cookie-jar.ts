/** A browser's cookies for one site, as far as tests need them: names, values, deletions. */
export class CookieJar {
	readonly #cookies = new Map<string, string>();

	/** Takes the `Set-Cookie` headers of a response (an empty value or Max-Age=0 deletes). */
	update(response: Response): this {
		for (const header of response.headers.getSetCookie()) {
			const [pair, ...attributes] = header.split(';');
			const index = pair!.indexOf('=');
			const name = pair!.slice(0, index).trim();
			const value = pair!.slice(index + 1).trim();
			const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
			if (value === '' || expired) this.#cookies.delete(name);
			else this.#cookies.set(name, value);
		}
		return this;
	}

	/** Cookie names, e.g. to find one by prefix. */
	names(): string[] {
		return [...this.#cookies.keys()];
	}

	get(name: string): string | undefined {
		return this.#cookies.get(name);
	}

	set(name: string, value: string): this {
		this.#cookies.set(name, value);
		return this;
	}

	delete(name: string): this {
		this.#cookies.delete(name);
		return this;
	}

	/** The `Cookie` request header ('' when empty). */
	header(): string {
		return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
	}
}
