import { fail } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireUser } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import {
	canDeleteMedia,
	canUploadMedia,
	deleteMedia,
	describeMedia,
	listMedia
} from '$lib/server/media/library';
import { selectMediaStorage } from '$lib/server/media/storage';
import type { Actions, PageServerLoad } from './$types';

const DELETE_STATUS = { not_found: 404, forbidden: 403, in_use: 409 } as const;
const DeleteForm = v.object({ id: v.pipe(v.string(), v.nonEmpty('Choose an item to delete.')) });

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireUser(locals, url);
	const entries = await listMedia(await getDatabase());
	return {
		media: entries.map((entry) => ({
			...describeMedia(entry),
			canDelete: canDeleteMedia(user, entry)
		})),
		canUpload: canUploadMedia(user.role),
		maxBytes: getEnv().mediaMaxSize
	};
};

export const actions: Actions = {
	delete: async ({ locals, url, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), DeleteForm);
		if (!form.ok) return fail(400, { deleteError: { id: '', message: form.errors.id ?? '' } });
		const env = getEnv();
		const result = await deleteMedia(
			await getDatabase(),
			(kind) => selectMediaStorage(env, kind),
			user,
			form.data.id
		);
		if (!result.ok) {
			return fail(DELETE_STATUS[result.reason], {
				deleteError: { id: form.data.id, message: result.message }
			});
		}
		return { deleted: result.item.filename };
	}
};
