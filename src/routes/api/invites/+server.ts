import { authorizeApi } from '$lib/server/auth/guards';
import { createInvite, inviteUrl, listPendingInvites } from '$lib/server/auth/invites';
import { InviteInput } from '$lib/server/auth/schemas';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** Pending invites (admins). */
export const GET: RequestHandler = async ({ locals }) => {
	const auth = authorizeApi(locals, ['admin']);
	if (!auth.ok) return problemResponse(auth.problem);
	return Response.json({ invites: await listPendingInvites(await getDatabase(), new Date()) });
};

/** Creates an invite `{ role, email? }` and returns its one-time link (admins). */
export const POST: RequestHandler = async ({ locals, request }) => {
	const auth = authorizeApi(locals, ['admin']);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, InviteInput);
	if (!body.ok) return problemResponse(body.problem);
	const { token, invite } = await createInvite(
		await getDatabase(),
		auth.user.id,
		body.data,
		new Date()
	);
	return Response.json(
		{
			invite: {
				id: invite.id,
				role: invite.role,
				email: invite.email,
				expiresAt: invite.expiresAt
			},
			url: inviteUrl(getEnv().origin, token)
		},
		{ status: 201 }
	);
};
