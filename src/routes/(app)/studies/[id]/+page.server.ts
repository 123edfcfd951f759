import { error, fail } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import { listMedia } from '$lib/server/media/library';
import {
	getStudyDetail,
	getValidationContext,
	shareStudy,
	unshareStudy
} from '$lib/server/studies';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const db = await getDatabase();
	const study = await getStudyDetail(db, user, params.id);
	if (!study) error(404, 'No such study, or it is not shared with you.');
	const [context, media] = await Promise.all([getValidationContext(db), listMedia(db)]);
	return {
		study,
		livekitConfigured: context.livekitConfigured,
		media: media.map(({ id, filename, kind, durationSeconds }) => ({
			id,
			filename,
			kind,
			durationSeconds
		}))
	};
};

const ShareForm = v.object({
	email: v.pipe(v.string(), v.trim(), v.email('Enter an email address.'), v.maxLength(254)),
	permission: v.picklist(['edit', 'view'], 'Choose edit or view.'),
	// A checkbox sends `on` when ticked and nothing otherwise; the per-member toggle sends `off`.
	dataAccess: v.pipe(
		v.optional(v.picklist(['on', 'off'], 'Choose whether they get the data permission.'), 'off'),
		v.transform((value) => value === 'on')
	)
});
const UnshareForm = v.object({ userId: v.pipe(v.string(), v.nonEmpty(), v.maxLength(64)) });

/** Why sharing failed, as the Sharing panel says it. */
const SHARE_REFUSALS = {
	not_found: 'This study no longer exists.',
	forbidden: 'Only the owner or an admin can share this study.',
	unknown_user: 'Nobody with that email has an account here. Invite them first (Users).',
	owner: 'That is the owner; they already have full access.',
	viewer_account:
		'Accounts with the viewer role cannot get the data permission. Change their role first (Users).'
} as const;

export const actions: Actions = {
	share: async ({ locals, url, params, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), ShareForm);
		if (!form.ok) return fail(400, { shareErrors: form.errors, shareValues: form.values });
		const result = await shareStudy(await getDatabase(), user, params.id, form.data);
		if (!result.ok) {
			return fail(400, {
				shareErrors: { email: SHARE_REFUSALS[result.reason] },
				shareValues: { email: form.data.email }
			});
		}
		const data = form.data.dataAccess ? ', with the data permission' : '';
		return { shareMessage: `Shared with ${form.data.email} (${form.data.permission}${data}).` };
	},
	unshare: async ({ locals, url, params, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), UnshareForm);
		if (!form.ok) return fail(400, { shareMessage: 'Choose someone to remove.' });
		const result = await unshareStudy(await getDatabase(), user, params.id, form.data.userId);
		if (!result.ok) return fail(400, { shareMessage: 'Only the owner or an admin can do that.' });
		return { shareMessage: 'Access removed.' };
	}
};
