import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { changePassword } from '$lib/server/auth/accounts';
import {
	createApiToken,
	listApiTokens,
	NewApiTokenInput,
	revokeApiToken
} from '$lib/server/auth/api-tokens';
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
	const db = await getDatabase();
	const list = await listUserSessions(db, user.id, getSessionPolicy(), new Date());
	const tokens = await listApiTokens(db, user.id);
	return {
		apiTokens: tokens.map((t) => ({
			id: t.id,
			name: t.name,
			createdAt: t.createdAt.toISOString(),
			lastUsedAt: t.lastUsedAt?.toISOString() ?? null
		})),
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
const TokenIdForm = v.object({ tokenId: v.pipe(v.string(), v.nonEmpty(), v.maxLength(64)) });

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
	},
	createToken: async (event) => {
		const user = requireUser(event.locals, event.url);
		const form = parseForm(await event.request.formData(), NewApiTokenInput);
		if (!form.ok) return fail(400, { tokenErrors: form.errors, tokenValues: form.values });
		const created = await createApiToken(await getDatabase(), user.id, form.data.name, new Date());
		// Shown once: the page keeps it only in this action's answer, never in load data.
		return { createdToken: { name: created.record.name, token: created.token } };
	},
	revokeToken: async (event) => {
		const user = requireUser(event.locals, event.url);
		const form = parseForm(await event.request.formData(), TokenIdForm);
		if (!form.ok) return fail(400, { tokenMessage: 'Choose a token to revoke.' });
		const result = await revokeApiToken(
			await getDatabase(),
			user.id,
			form.data.tokenId,
			new Date()
		);
		if (!result.ok) return fail(404, { tokenMessage: 'That token was already revoked.' });
		return { tokenMessage: 'Token revoked. Scripts using it can no longer sign in.' };
	}
};
