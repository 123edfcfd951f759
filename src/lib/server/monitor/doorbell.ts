/**
 * The study doorbell: "the waiting room or the study's rooms may have changed". Rung after every
 * commit under the study's matching lock (joins, leaves, formations, cohorts, open rooms, manual
 * matches); the realtime runtime installs what it does (a `changed` message on the study feed).
 *
 * Kept on `globalThis` and free of imports, because the matching code runs in both the Bun
 * entry (the formation runner) and the SvelteKit bundle (the routes), which load separate
 * copies of our modules.
 */
const KEY = Symbol.for('ensemble.studyDoorbell');
type DoorbellGlobal = { [KEY]?: (studyId: string) => void };

/** Rings the study's doorbell; nothing happens when no runtime installed one. Never throws. */
export function ringStudyDoorbell(studyId: string): void {
	try {
		(globalThis as DoorbellGlobal)[KEY]?.(studyId);
	} catch {
		// A doorbell is a hint; the monitors also re-read on their own every few seconds.
	}
}

/** Installs what ringing does; returns the function that removes it. */
export function installStudyDoorbell(ring: (studyId: string) => void): () => void {
	const store = globalThis as DoorbellGlobal;
	store[KEY] = ring;
	return () => {
		if (store[KEY] === ring) delete store[KEY];
	};
}
