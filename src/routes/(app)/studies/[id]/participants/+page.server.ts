import { error, fail } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import {
	EraseForm,
	eraseParticipant,
	listStudyParticipants,
	ParticipantListQuery,
	PRIVACY_MESSAGES
} from '$lib/server/privacy';
import type { Actions, PageServerLoad } from './$types';

/** The participants list: search, page, external ids only with the data permission. */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const query = v.safeParse(ParticipantListQuery, Object.fromEntries(url.searchParams));
	if (!query.success) error(400, query.issues[0].message);
	const result = await listStudyParticipants(await getDatabase(), user, params.id, query.output);
	if (!result.ok) {
		error(result.reason === 'not_found' ? 404 : 403, PRIVACY_MESSAGES[result.reason]);
	}
	return {
		participants: result.participants.map((p) => ({
			...p,
			createdAt: p.createdAt.toISOString(),
			lastSeenAt: p.lastSeenAt.toISOString(),
			outcomeAt: p.outcomeAt?.toISOString() ?? null
		})),
		next: result.next,
		dataAccess: result.dataAccess,
		query: {
			q: query.output.q,
			by: query.output.by,
			externalIds: result.externalIdsShown,
			paged: query.output.after !== undefined
		}
	};
};

/** The status each refused erasure answers with, as the API does. */
const ERASE_STATUS = {
	not_found: 404,
	data_permission: 403,
	participant_not_found: 404,
	room_running: 409
} as const;

export const actions: Actions = {
	/** Erases one participant after their id was typed again (data permission; audited). */
	erase: async ({ locals, url, params, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), EraseForm);
		if (!form.ok) return fail(400, { eraseError: 'Choose a participant to erase.' });
		const { participantId, confirm } = form.data;
		if (confirm !== participantId) {
			return fail(400, {
				eraseError: `Type the participant id (${participantId}) exactly to confirm. Nothing was erased.`,
				participantId
			});
		}
		const result = await eraseParticipant(await getDatabase(), params.id, participantId, user);
		if (!result.ok) {
			return fail(ERASE_STATUS[result.reason], {
				eraseError: PRIVACY_MESSAGES[result.reason],
				participantId
			});
		}
		return { erased: { participantId, counts: result.counts } };
	}
};
