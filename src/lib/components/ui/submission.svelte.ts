import type { SubmitFunction } from '@sveltejs/kit';

/**
 * Tracks a progressively enhanced form's submission so its button can say "Saving…" and
 * refuse a double click. Keeps the typed values when the server answers with errors.
 */
export class Submission {
	#pending = $state(false);

	get pending(): boolean {
		return this.#pending;
	}

	/** Pass to `use:enhance`. */
	readonly enhance: SubmitFunction = () => {
		this.#pending = true;
		return async ({ update }) => {
			await update({ reset: false });
			this.#pending = false;
		};
	};
}
