import { fail, redirect } from '@sveltejs/kit';
import { createFirstAdmin } from '$lib/server/auth/accounts';
import { startSession } from '$lib/server/auth/request';
import { NewAccountForm } from '$lib/server/auth/schemas';
import { isSetUp } from '$lib/server/auth/setup';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
	if (await isSetUp(await getDatabase())) redirect(303, '/login');
};

export const actions: Actions = {
	default: async (event) => {
		const form = parseForm(await event.request.formData(), NewAccountForm);
		if (!form.ok) return fail(400, { errors: form.errors, values: form.values });
		const result = await createFirstAdmin(await getDatabase(), form.data);
		if (!result.ok) {
			if (result.reason === 'already_set_up') redirect(303, '/login');
			const { password, confirm, ...values } = form.data;
			return fail(400, { errors: { [result.field]: result.message }, values });
		}
		await startSession(event, result.user);
		redirect(303, '/studies');
	}
};
