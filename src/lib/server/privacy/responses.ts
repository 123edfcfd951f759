import { problem, problemResponse } from '../http/problem';

/**
 * One wording and status per expected failure of the privacy API: 404 for a study that is
 * missing or not visible, 403 without the data permission, 404 for an unknown participant
 * (asked only once the permission is known, so ids are not confirmed to others), 409 while
 * the participant's room runs.
 */
export type PrivacyFailure =
	| { reason: 'not_found' | 'data_permission' | 'participant_not_found' }
	| { reason: 'room_running'; roomIds: string[] };

/** The sentence the page and the API show for each failure. */
export const PRIVACY_MESSAGES = {
	not_found: 'No such study.',
	data_permission:
		'This needs the data permission on this study (external ids, export and erasure of a participant). Ask the study owner.',
	participant_not_found: 'No such participant in this study.',
	room_running:
		"This participant's room is still running: end the room first (Monitor), then erase."
} as const;

export function respondPrivacyFailure(failure: PrivacyFailure): Response {
	switch (failure.reason) {
		case 'not_found':
			return problemResponse(problem(404, 'not_found', PRIVACY_MESSAGES.not_found));
		case 'data_permission':
			return problemResponse(problem(403, 'data_permission', PRIVACY_MESSAGES.data_permission));
		case 'participant_not_found':
			return problemResponse(
				problem(404, 'participant_not_found', PRIVACY_MESSAGES.participant_not_found)
			);
		case 'room_running':
			return Response.json(
				{
					error: 'room_running',
					message: PRIVACY_MESSAGES.room_running,
					roomIds: failure.roomIds
				},
				{ status: 409 }
			);
	}
}
