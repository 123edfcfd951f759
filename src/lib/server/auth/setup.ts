import type { Executor } from '../db';
import { hasAnyUser } from './accounts';

const SETUP_KEY = Symbol.for('ensemble.setUp');
type SetupGlobal = { [SETUP_KEY]?: true };

/**
 * Whether the first account exists. Once true it stays true, so after setup this answers
 * from memory instead of counting users on every request.
 */
export async function isSetUp(db: Executor): Promise<boolean> {
	const store = globalThis as SetupGlobal;
	if (store[SETUP_KEY]) return true;
	if (!(await hasAnyUser(db))) return false;
	store[SETUP_KEY] = true;
	return true;
}
