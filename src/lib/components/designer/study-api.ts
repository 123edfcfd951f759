import type { StudyIssue } from '$lib/study';

/**
 * The study endpoints the designer calls from the browser (same origin, so the browser sends
 * the Origin header the server checks). Expected failures are values, never thrown.
 */

export type PublishResult =
	| { ok: true; version: number; contentHash: string; created: boolean; link: string }
	| { ok: false; message: string; issues: StudyIssue[] };

export type LifecycleAction = 'pause' | 'resume' | 'close';
export type StatusResult = { ok: true; status: string } | { ok: false; message: string };

const UNREACHABLE = 'The server cannot be reached. Try again in a moment.';

async function post(path: string): Promise<{ response: Response; body: Record<string, unknown> }> {
	const response = await fetch(path, { method: 'POST' });
	const body = ((await response.json().catch(() => null)) ?? {}) as Record<string, unknown>;
	return { response, body };
}

function messageOf(body: Record<string, unknown>, status: number): string {
	return typeof body.message === 'string' ? body.message : `The server answered ${status}.`;
}

/** Publishes the saved draft as a new version (or finds it already is the latest). */
export async function publishStudy(studyId: string): Promise<PublishResult> {
	try {
		const { response, body } = await post(`/api/studies/${encodeURIComponent(studyId)}/publish`);
		if (response.ok) return { ok: true, ...(body as Omit<PublishResult & { ok: true }, 'ok'>) };
		const issues = Array.isArray(body.issues) ? (body.issues as StudyIssue[]) : [];
		return { ok: false, message: messageOf(body, response.status), issues };
	} catch {
		return { ok: false, message: UNREACHABLE, issues: [] };
	}
}

/** Pauses, resumes or closes a published study. */
export async function changeStudyStatus(
	studyId: string,
	action: LifecycleAction
): Promise<StatusResult> {
	try {
		const { response, body } = await post(`/api/studies/${encodeURIComponent(studyId)}/${action}`);
		if (response.ok && typeof body.status === 'string') return { ok: true, status: body.status };
		return { ok: false, message: messageOf(body, response.status) };
	} catch {
		return { ok: false, message: UNREACHABLE };
	}
}
