import type { StudyIssue } from '../../study';
import { problem, problemResponse, type Problem } from '../http/problem';

/**
 * One wording and status per expected failure of the studies API, so every endpoint answers
 * the same way: 404 missing or invisible, 403 visible but not allowed, 400 bad input,
 * 409 conflict, 422 not publishable.
 */

export type StudyFailure =
	| { reason: 'not_found' }
	| { reason: 'forbidden' }
	| { reason: 'unknown_template' }
	| { reason: 'invalid'; issues: StudyIssue[] }
	| { reason: 'conflict'; revision: number }
	| { reason: 'invalid_transition'; message: string }
	| { reason: 'unknown_user' }
	| { reason: 'owner' };

/** The JSON error response for an expected failure of a study operation. */
export function respondStudyFailure(
	failure: StudyFailure,
	forbidden = 'Your access to this study does not allow this.'
): Response {
	switch (failure.reason) {
		case 'not_found':
			return problemResponse(problem(404, 'not_found', 'No such study.'));
		case 'forbidden':
			return problemResponse(problem(403, 'forbidden', forbidden));
		case 'unknown_template':
			return problemResponse(problem(400, 'unknown_template', 'There is no such template.'));
		case 'invalid':
			return problemResponse({
				...problem(400, 'invalid_definition', 'The study definition is not valid.'),
				issues: failure.issues
			});
		case 'conflict': {
			const body: Problem & { revision: number } = {
				...problem(
					409,
					'conflict',
					'Someone saved this study since you loaded it. Reload to see their changes.'
				),
				revision: failure.revision
			};
			return problemResponse(body);
		}
		case 'invalid_transition':
			return problemResponse(problem(409, 'invalid_transition', failure.message));
		case 'unknown_user':
			return problemResponse(problem(400, 'unknown_user', 'No account uses this email address.'));
		case 'owner':
			return problemResponse(
				problem(400, 'owner', 'This person owns the study and already has full access.')
			);
	}
}

/** 422 for a draft that cannot be published, with every issue. */
export function respondNotPublishable(issues: StudyIssue[]): Response {
	return problemResponse({
		...problem(422, 'not_publishable', 'The study cannot be published until these are fixed.'),
		issues
	});
}
