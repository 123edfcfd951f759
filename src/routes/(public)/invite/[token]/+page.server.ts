import { fail, redirect } from '@sveltejs/kit';
import { acceptInvite, findUsableInvite } from '$lib/server/auth/invites';
import { startSession } from '$lib/server/auth/request';
import { NewAccountForm } from '$lib/server/auth/schemas';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params }) => {
	const lookup = await findUsableInvite(await getDatabase(), params.token, new Date());
	if (!lookup.ok) return { invite: null, problem: lookup.message };
	return { invite: { role: lookup.invite.role, email: lookup.invite.email }, problem: null };
};

export const actions: Actions = {
	default: async (event) => {
		const form = parseForm(await event.request.formData(), NewAccountForm);
		if (!form.ok) return fail(400, { errors: form.errors, values: form.values });
		const result = await acceptInvite(
			await getDatabase(),
			event.params.token,
			form.data,
			new Date()
		);
		if (!result.ok) {
			const { password, confirm, ...values } = form.data;
			const field = 'field' in result ? result.field : 'form';
			return fail(400, { errors: { [field]: result.message }, values });
		}
		await startSession(event, result.user);
		redirect(303, '/studies');
	}
};
