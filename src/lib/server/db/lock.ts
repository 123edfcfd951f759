import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export type DirectoryLock = { path: string; release: () => void };
export type LockResult =
	| { ok: true; lock: DirectoryLock }
	| { ok: false; holder: { pid: number; host: string; since: string } };

type Holder = { pid: number; host: string; since: string };

function readHolder(path: string): Holder | undefined {
	try {
		const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
		if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
			return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '') };
		}
	} catch {
		// Unreadable or half-written: treated as stale below.
	}
	return undefined;
}

function isProcessAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM means it exists but belongs to someone else.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/**
 * A holder is stale when its process is gone. A lock naming our own pid is stale too: it was
 * left by an earlier container whose process also ran as pid 1. Locks from another host (a
 * shared volume) are never assumed stale.
 */
function isStale(holder: Holder | undefined): boolean {
	if (!holder) return true;
	if (holder.host !== hostname()) return false;
	return holder.pid === process.pid || !isProcessAlive(holder.pid);
}

/**
 * Takes an exclusive lock on a data directory with a lock file. PGlite has no
 * inter-process locking; two processes on one directory would corrupt it.
 */
export function acquireDirectoryLock(directory: string): LockResult {
	const path = join(directory, 'ensemble.lock');
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			const fd = openSync(path, 'wx');
			const holder: Holder = {
				pid: process.pid,
				host: hostname(),
				since: new Date().toISOString()
			};
			writeSync(fd, JSON.stringify(holder));
			closeSync(fd);
			let released = false;
			const release = () => {
				if (released) return;
				released = true;
				if (readHolder(path)?.pid === process.pid) unlinkSync(path);
			};
			return { ok: true, lock: { path, release } };
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const holder = readHolder(path);
			if (!isStale(holder)) return { ok: false, holder: holder! };
			unlinkSync(path);
		}
	}
	const holder = readHolder(path);
	return { ok: false, holder: holder ?? { pid: -1, host: 'unknown', since: '' } };
}
