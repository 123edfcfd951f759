import { getContext, setContext, untrack } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import type { StudyIssue } from '$lib/study';
import type { DesignerContext } from './context';

/**
 * The issues of the stage being edited, and which of them a field is showing. Fields claim
 * their path while mounted; whatever nobody claims is listed at the top of the editor, so no
 * issue is ever hidden (a stage-level rule, a path a form does not have a field for).
 */
export class StageIssues {
	#source: () => readonly StudyIssue[];
	#claims = new SvelteMap<string, number>();

	constructor(source: () => readonly StudyIssue[]) {
		this.#source = source;
	}

	/** The messages for exactly this path (`content.items.0.prompt`). */
	messagesAt(path: string): string[] {
		return this.#source()
			.filter((issue) => issue.path === path)
			.map((issue) => issue.message);
	}

	/** Marks `path` as shown next to a field; returns the release for the field's teardown. */
	claim(path: string): () => void {
		// Untracked: a field claims from an effect, which must not re-run because it wrote here.
		return untrack(() => {
			this.#claims.set(path, (this.#claims.get(path) ?? 0) + 1);
			return () => {
				const count = this.#claims.get(path) ?? 0;
				if (count <= 1) this.#claims.delete(path);
				else this.#claims.set(path, count - 1);
			};
		});
	}

	/** Issues no mounted field shows. */
	get unclaimed(): StudyIssue[] {
		return this.#source().filter((issue) => !this.#claims.has(issue.path));
	}
}

/** What every form inside one StageEditor shares. */
export type StageEditorState = {
	readonly issues: StageIssues;
	readonly designer: DesignerContext;
	readonly readonly: boolean;
};

const KEY = Symbol('stage-editor');

/** Called once by StageEditor; getters keep the values live as its props change. */
export function setStageEditorState(state: StageEditorState): void {
	setContext(KEY, state);
}

/** The state of the enclosing StageEditor. */
export function getStageEditorState(): StageEditorState {
	const state = getContext<StageEditorState | undefined>(KEY);
	if (!state) throw new Error('Stage forms must be placed inside a StageEditor.');
	return state;
}

/**
 * Claims `paths()` for the calling component while it is mounted. The first claims are made
 * during initialisation, not in an effect, so the editor's list of unclaimed issues is right on
 * the first render; later path changes (an item moved) re-claim before the DOM updates.
 */
export function claimPaths(paths: () => readonly string[]): void {
	const { issues } = getStageEditorState();
	let claimed = paths();
	let releases = claimed.map((path) => issues.claim(path));
	$effect.pre(() => {
		const current = paths();
		if (current.length === claimed.length && current.every((path, i) => path === claimed[i])) {
			return;
		}
		releases.forEach((release) => release());
		claimed = current;
		releases = current.map((path) => issues.claim(path));
	});
	$effect(() => () => releases.forEach((release) => release()));
}

/**
 * Shows the issues at `path()` next to the calling field: claims the path while the field is
 * mounted and returns the messages, live. A null path shows nothing (another field shows them).
 */
export function useFieldIssues(path: () => string | null): { readonly messages: string[] } {
	const { issues } = getStageEditorState();
	claimPaths(() => {
		const current = path();
		return current === null ? [] : [current];
	});
	const messages = $derived.by(() => {
		const current = path();
		return current === null ? [] : issues.messagesAt(current);
	});
	return {
		get messages() {
			return messages;
		}
	};
}
