import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { changePassword } from '$lib/server/auth/accounts';
import { requireUser } from '$lib/server/auth/guards';
import { getSessionPolicy } from '$lib/server/auth/policy';
import { endSession } from '$lib/server/auth/request';
import { ChangePasswordForm } from '$lib/server/auth/schemas';
import {
	invalidateOwnSession,
	invalidateUserSessions,
	listUserSessions
} from '$lib/server/auth/sessions';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireUser(locals, url);
	const list = await listUserSessions(await getDatabase(), user.id, getSessionPolicy(), new Date());
	return {
		sessions: list.map((s) => ({
			id: s.id,
			current: s.id === locals.session?.id,
			createdAt: s.createdAt.toISOString(),
			lastSeenAt: s.lastSeenAt.toISOString(),
			expiresAt: s.expiresAt.toISOString(),
			userAgent: s.userAgent,
			ipAddress: s.ipAddress
		}))
	};
};

const SessionIdForm = v.object({ sessionId: v.pipe(v.string(), v.nonEmpty(), v.maxLength(64)) });

export const actions: Actions = {
	signOutEverywhere: async (event) => {
		const user = requireUser(event.locals, event.url);
		await invalidateUserSessions(await getDatabase(), user.id);
		await endSession(event);
		redirect(303, '/login?signed-out=1');
	},
	endSession: async (event) => {
		const user = requireUser(event.locals, event.url);
		const form = parseForm(await event.request.formData(), SessionIdForm);
		if (!form.ok) return fail(400, { sessionMessage: 'Choose a session to end.' });
		if (form.data.sessionId === event.locals.session?.id) {
			await endSession(event);
			redirect(303, '/login?signed-out=1');
		}
		await invalidateOwnSession(await getDatabase(), user.id, form.data.sessionId);
		return { sessionMessage: 'Session ended.' };
	},
	changePassword: async (event) => {
		const user = requireUser(event.locals, event.url);
		const form = parseForm(await event.request.formData(), ChangePasswordForm);
		if (!form.ok) return fail(400, { passwordErrors: form.errors });
		const result = await changePassword(
			await getDatabase(),
			user.id,
			event.locals.session!.id,
			form.data.current,
			form.data.password
		);
		if (!result.ok) return fail(400, { passwordErrors: { [result.field]: result.message } });
		return { passwordChanged: true };
	}
};
