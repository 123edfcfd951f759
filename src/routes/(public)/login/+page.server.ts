import { fail, redirect } from '@sveltejs/kit';
import { describeSignInFailure } from '$lib/server/auth/messages';
import { signInOnRequest } from '$lib/server/auth/request';
import { SignInInput } from '$lib/server/auth/schemas';
import { isSetUp } from '$lib/server/auth/setup';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import { safeRedirectPath } from '$lib/server/http/safe-redirect';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	if (!(await isSetUp(await getDatabase()))) redirect(303, '/setup');
	if (locals.user) redirect(303, safeRedirectPath(url.searchParams.get('next')));
	return {
		expired: url.searchParams.get('expired') === '1' || locals.sessionExpired,
		signedOut: url.searchParams.get('signed-out') === '1',
		allowSignup: getEnv().allowSignup
	};
};

export const actions: Actions = {
	default: async (event) => {
		const form = parseForm(await event.request.formData(), SignInInput);
		if (!form.ok) return fail(400, { errors: form.errors, values: form.values });
		const result = await signInOnRequest(event, form.data);
		if (!result.ok) {
			const failure = describeSignInFailure(result);
			return fail(failure.status, { message: failure.message, values: { email: form.data.email } });
		}
		redirect(303, safeRedirectPath(event.url.searchParams.get('next')));
	}
};
