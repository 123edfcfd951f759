import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import {
	CreateStudyBody,
	createStudy,
	listStudies,
	respondStudyFailure
} from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** The studies the caller can see; `?archived=1` lists the archived ones instead. */
export const GET: RequestHandler = async ({ locals, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const archived = ['1', 'true'].includes(url.searchParams.get('archived') ?? '');
	return Response.json({
		studies: await listStudies(await getDatabase(), auth.user, { archived })
	});
};

/** Creates a draft study `{ title?, templateId? }` (researchers and admins). */
export const POST: RequestHandler = async ({ locals, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, CreateStudyBody);
	if (!body.ok) return problemResponse(body.problem);
	const result = await createStudy(await getDatabase(), auth.user, body.data);
	if (!result.ok) return respondStudyFailure(result, 'Viewers cannot create studies.');
	return Response.json({ id: result.id }, { status: 201 });
};
