import { fail } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireAdmin } from '$lib/server/auth/guards';
import {
	createInvite,
	inviteUrl,
	listPendingInvites,
	revokeInvite
} from '$lib/server/auth/invites';
import { InviteInput, Role } from '$lib/server/auth/schemas';
import { listUsers, updateUser } from '$lib/server/auth/users';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const admin = requireAdmin(locals, url);
	const db = await getDatabase();
	const [users, invites] = await Promise.all([listUsers(db), listPendingInvites(db, new Date())]);
	return {
		me: admin.id,
		users: users.map((u) => ({
			...u,
			createdAt: u.createdAt.toISOString(),
			disabled: u.disabledAt !== null
		})),
		invites: invites.map((i) => ({
			...i,
			createdAt: i.createdAt.toISOString(),
			expiresAt: i.expiresAt.toISOString()
		}))
	};
};

const Id = v.pipe(v.string(), v.nonEmpty(), v.maxLength(64));
const RoleForm = v.object({ userId: Id, role: Role });
const StatusForm = v.object({ userId: Id, disabled: v.picklist(['true', 'false']) });
const RevokeForm = v.object({ inviteId: Id });

export const actions: Actions = {
	invite: async ({ locals, url, request }) => {
		const admin = requireAdmin(locals, url);
		const form = parseForm(await request.formData(), InviteInput);
		if (!form.ok) return fail(400, { inviteErrors: form.errors });
		const { token, invite } = await createInvite(
			await getDatabase(),
			admin.id,
			form.data,
			new Date()
		);
		return {
			invited: { url: inviteUrl(getEnv().origin, token), role: invite.role, email: invite.email }
		};
	},
	revokeInvite: async ({ locals, url, request }) => {
		requireAdmin(locals, url);
		const form = parseForm(await request.formData(), RevokeForm);
		if (!form.ok) return fail(400, { userMessage: 'Choose an invite to withdraw.' });
		const revoked = await revokeInvite(await getDatabase(), form.data.inviteId, new Date());
		if (!revoked) return fail(404, { userMessage: 'That invite is no longer pending.' });
		return { userMessage: 'Invite withdrawn.' };
	},
	setRole: async ({ locals, url, request }) => {
		const admin = requireAdmin(locals, url);
		const form = parseForm(await request.formData(), RoleForm);
		if (!form.ok) return fail(400, { userMessage: Object.values(form.errors)[0] });
		const result = await updateUser(
			await getDatabase(),
			admin.id,
			form.data.userId,
			{ role: form.data.role },
			new Date()
		);
		if (!result.ok) return fail(400, { userMessage: result.message });
		return { userMessage: `${result.user.name} is now ${result.user.role}.` };
	},
	setStatus: async ({ locals, url, request }) => {
		const admin = requireAdmin(locals, url);
		const form = parseForm(await request.formData(), StatusForm);
		if (!form.ok) return fail(400, { userMessage: 'Choose a user.' });
		const disabled = form.data.disabled === 'true';
		const result = await updateUser(
			await getDatabase(),
			admin.id,
			form.data.userId,
			{ disabled },
			new Date()
		);
		if (!result.ok) return fail(400, { userMessage: result.message });
		const verb = disabled ? 'disabled and signed out' : 'enabled';
		return { userMessage: `${result.user.name} was ${verb}.` };
	}
};
