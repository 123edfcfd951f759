import { error, fail, redirect } from '@sveltejs/kit';
import { signUp } from '$lib/server/auth/accounts';
import { startSession } from '$lib/server/auth/request';
import { NewAccountForm } from '$lib/server/auth/schemas';
import { isSetUp } from '$lib/server/auth/setup';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import type { Actions, PageServerLoad } from './$types';

function assertSignupOpen() {
	if (!getEnv().allowSignup) error(404, 'Sign-up is not open on this server. Ask for an invite.');
}

export const load: PageServerLoad = async ({ locals }) => {
	if (!(await isSetUp(await getDatabase()))) redirect(303, '/setup');
	assertSignupOpen();
	if (locals.user) redirect(303, '/studies');
};

export const actions: Actions = {
	default: async (event) => {
		assertSignupOpen();
		const form = parseForm(await event.request.formData(), NewAccountForm);
		if (!form.ok) return fail(400, { errors: form.errors, values: form.values });
		const result = await signUp(await getDatabase(), form.data);
		if (!result.ok) {
			const { password, confirm, ...values } = form.data;
			return fail(400, { errors: { [result.field]: result.message }, values });
		}
		await startSession(event, result.user);
		redirect(303, '/studies');
	}
};
