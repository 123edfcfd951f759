import { error, fail, redirect, type Cookies } from '@sveltejs/kit';
import { parseStageResponseText } from '$lib/study';
import { getDatabase } from '$lib/server/db';
import { readParticipantCookie, setParticipantCookie } from '$lib/server/participants/cookies';
import { enterStudy } from '$lib/server/participants/identity';
import { findUnstorableField } from '$lib/server/http/form';
import { findLinkParticipant, viewJourney } from '$lib/server/participants/journey';
import { submitPreRoomResponse } from '$lib/server/participants/pre-room';
import { decideResume, type ParticipationSummary } from '$lib/server/participants/resume';
import { enterOpenRoom, enterWaitingRoom } from '$lib/server/participants/waiting-room';
import type { Actions, PageServerLoad } from './$types';

const NOT_FOUND = 'There is no study at this address.';

/** The question the page asks when a resume link names another participant than the cookie. */
type ResumeChoice = {
	token: string;
	current: ParticipationSummary;
	other: ParticipationSummary;
	/** Where "Keep my current session" goes: this address without the resume token. */
	keepUrl: string;
	/** The server's time, for "started 5 minutes ago". */
	now: number;
};

/** Slugs are random and short; anything else cannot be a study link. */
function checkSlug(slug: string): void {
	if (!/^[a-z0-9]{4,32}$/.test(slug)) error(404, NOT_FOUND);
}

/** The participant behind the study's cookie, for the actions after "Start". */
async function requireParticipant(slug: string, cookies: Cookies) {
	checkSlug(slug);
	const db = await getDatabase();
	const participant = await findLinkParticipant(db, slug, readParticipantCookie(cookies, slug));
	return { db, participant };
}

/** `/s/<slug>` with the rest of the query, `resume` left out. */
function cleanStudyUrl(slug: string, url: URL): string {
	const rest = new URLSearchParams(url.searchParams);
	rest.delete('resume');
	const query = rest.toString();
	return `/s/${slug}${query ? `?${query}` : ''}`;
}

export const load: PageServerLoad = async ({ params, cookies, url, setHeaders }) => {
	checkSlug(params.slug);
	const db = await getDatabase();
	const now = new Date();
	const held = readParticipantCookie(cookies, params.slug);
	setHeaders({ 'cache-control': 'no-store' });
	const resume = url.searchParams.get('resume');
	let resumeChoice: ResumeChoice | null = null;
	if (resume !== null) {
		// The resume token is a participant's own secret: adopt it, then drop it from the URL —
		// unless this browser takes part as someone else: then ask (nothing changes until a POST).
		const decision = await decideResume(db, params.slug, resume.slice(0, 200), held, now);
		if (decision.kind !== 'ask') {
			if (decision.kind === 'adopt') setParticipantCookie(cookies, params.slug, decision.token);
			redirect(303, cleanStudyUrl(params.slug, url));
		}
		resumeChoice = {
			token: decision.token,
			current: decision.current,
			other: decision.other,
			keepUrl: cleanStudyUrl(params.slug, url),
			now: now.getTime()
		};
	}
	const view = await viewJourney(db, params.slug, held, now);
	if (!view) error(404, NOT_FOUND);
	return { ...view, resumeChoice };
};

export const actions: Actions = {
	/** "Continue as the other participant": the explicit switch the resume question offers. */
	resume: async ({ params, cookies, request }) => {
		checkSlug(params.slug);
		const token = String((await request.formData()).get('token') ?? '').slice(0, 200);
		const decision = await decideResume(
			await getDatabase(),
			params.slug,
			token,
			readParticipantCookie(cookies, params.slug),
			new Date()
		);
		if (decision.kind !== 'ignore') setParticipantCookie(cookies, params.slug, decision.token);
		redirect(303, `/s/${params.slug}`);
	},

	/** "Start": the only way a participant is created (never a GET, so previews cost nothing). */
	start: async ({ params, cookies, request }) => {
		checkSlug(params.slug);
		const form = await request.formData();
		const link = String(form.get('link') ?? '').slice(0, 4000);
		const result = await enterStudy(await getDatabase(), {
			slug: params.slug,
			existingToken: readParticipantCookie(cookies, params.slug),
			params: new URLSearchParams(link.startsWith('?') ? link.slice(1) : link),
			now: new Date()
		});
		if (!result.ok) {
			if (result.reason === 'not_found') error(404, NOT_FOUND);
			if (result.reason === 'invalid_link') {
				return fail(400, { reason: result.reason, message: result.message });
			}
			return fail(409, { reason: result.reason });
		}
		setParticipantCookie(cookies, params.slug, result.token);
		redirect(303, `/s/${params.slug}`);
	},

	/** A pre-room stage's response (JSON in a field, so the stage views stay as they are). */
	respond: async ({ params, cookies, request }) => {
		const { db, participant } = await requireParticipant(params.slug, cookies);
		if (!participant) return fail(401, { reason: 'no_participant' });
		const form = await request.formData();
		const unstorable = findUnstorableField(form);
		if (unstorable) return fail(400, { reason: 'unstorable_text', message: unstorable.message });
		const stageId = String(form.get('stageId') ?? '');
		const response = parseStageResponseText(String(form.get('response') ?? ''));
		if (!response || stageId === '' || stageId.length > 100) {
			return fail(400, { reason: 'invalid_response' });
		}
		const result = await submitPreRoomResponse(db, participant, stageId, response, new Date());
		if (!result.ok) {
			const invalid = ['invalid_response', 'invalid_answers', 'invalid_option'];
			return fail(invalid.includes(result.reason) ? 400 : 409, { reason: result.reason });
		}
		return { stored: result.stored };
	},

	/** The ready check passed (matched and scheduled modes): into the waiting room. */
	ready: async ({ params, cookies }) => {
		const { db, participant } = await requireParticipant(params.slug, cookies);
		if (!participant) return fail(401, { reason: 'no_participant' });
		const result = await enterWaitingRoom(db, participant, new Date());
		if (!result.ok) return fail(409, { reason: result.reason });
		return { entered: true };
	},

	/** Open mode: join a room by invite code. */
	join: async ({ params, cookies, request }) => {
		const { db, participant } = await requireParticipant(params.slug, cookies);
		if (!participant) return fail(401, { reason: 'no_participant' });
		const form = await request.formData();
		const unstorable = findUnstorableField(form);
		if (unstorable) return fail(400, { reason: 'unstorable_text', message: unstorable.message });
		const code = String(form.get('code') ?? '').slice(0, 40);
		const result = await enterOpenRoom(db, participant, { code }, new Date());
		if (!result.ok) return fail(409, { reason: result.reason, code });
		return { entered: true };
	},

	/** Open mode: start a new room (when the study lets participants). */
	create: async ({ params, cookies }) => {
		const { db, participant } = await requireParticipant(params.slug, cookies);
		if (!participant) return fail(401, { reason: 'no_participant' });
		const result = await enterOpenRoom(db, participant, { create: true }, new Date());
		if (!result.ok) return fail(409, { reason: result.reason });
		return { entered: true };
	}
};
