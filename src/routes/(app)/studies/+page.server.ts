import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { parseForm } from '$lib/server/http/form';
import { createSandboxRoom, listSandboxRooms } from '$lib/server/rooms/rooms';
import {
	createStudy,
	duplicateStudy,
	importStudy,
	listStudies,
	setStudyArchived
} from '$lib/server/studies';
import { STUDY_TEMPLATES } from '$lib/study/templates';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireUser(locals, url);
	const db = await getDatabase();
	const archived = url.searchParams.get('archived') === '1';
	const [studies, rooms] = await Promise.all([
		listStudies(db, user, { archived }),
		listSandboxRooms(db)
	]);
	return {
		studies,
		archived,
		canCreate: user.role !== 'viewer',
		templates: STUDY_TEMPLATES.map(({ id, name, summary, needs }) => ({
			id,
			name,
			summary,
			needs
		})),
		rooms: rooms.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }))
	};
};

const Id = v.pipe(v.string(), v.nonEmpty(), v.maxLength(64));
const CreateForm = v.object({
	// Empty: a blank study.
	templateId: v.optional(v.pipe(v.string(), v.maxLength(64)), '')
});
const StudyForm = v.object({ studyId: Id });
const ArchiveForm = v.object({ studyId: Id, archived: v.picklist(['true', 'false']) });

/** Why a study could not be created, in the words the list page shows. */
const CREATE_REFUSALS = {
	forbidden: 'Your role does not allow creating studies.',
	unknown_template: 'That template does not exist.',
	invalid: 'The study is not valid.'
} as const;

export const actions: Actions = {
	create: async ({ locals, url, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), CreateForm);
		if (!form.ok) return fail(400, { createMessage: 'Choose a template or a blank study.' });
		const templateId = form.data.templateId || undefined;
		const result = await createStudy(await getDatabase(), user, { templateId });
		if (!result.ok) return fail(400, { createMessage: CREATE_REFUSALS[result.reason] });
		redirect(303, `/studies/${result.id}`);
	},
	import: async ({ locals, url, request }) => {
		const user = requireUser(locals, url);
		const file = (await request.formData()).get('file');
		if (!(file instanceof File) || file.size === 0) {
			return fail(400, { importMessage: 'Choose a study file (.json) to import.', issues: [] });
		}
		let document: unknown;
		try {
			document = JSON.parse(await file.text());
		} catch {
			return fail(400, { importMessage: `${file.name} is not a JSON file.`, issues: [] });
		}
		const result = await importStudy(await getDatabase(), user, document);
		if (!result.ok) {
			const issues = result.reason === 'invalid' ? result.issues : [];
			const importMessage =
				result.reason === 'invalid'
					? `${file.name} is not a valid study:`
					: CREATE_REFUSALS[result.reason];
			return fail(400, { importMessage, issues });
		}
		redirect(303, `/studies/${result.id}`);
	},
	duplicate: async ({ locals, url, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), StudyForm);
		if (!form.ok) return fail(400, { rowMessage: 'Choose a study.' });
		const result = await duplicateStudy(await getDatabase(), user, form.data.studyId);
		if (!result.ok) return fail(400, { rowMessage: 'That study could not be duplicated.' });
		redirect(303, `/studies/${result.id}`);
	},
	archive: async ({ locals, url, request }) => {
		const user = requireUser(locals, url);
		const form = parseForm(await request.formData(), ArchiveForm);
		if (!form.ok) return fail(400, { rowMessage: 'Choose a study.' });
		const archived = form.data.archived === 'true';
		const db = await getDatabase();
		const result = await setStudyArchived(db, user, form.data.studyId, archived);
		if (!result.ok) return fail(400, { rowMessage: 'Only its owner or an admin can do that.' });
		return { rowMessage: archived ? 'Study archived.' : 'Study restored from the archive.' };
	},
	createSandbox: async ({ locals, url }) => {
		const user = requireUser(locals, url);
		if (user.role === 'viewer') redirect(303, '/studies');
		const room = await createSandboxRoom(await getDatabase(), user.id, {
			kind: 'sandbox',
			title: `Sandbox of ${user.name}`
		});
		redirect(303, `/rooms/${room.id}`);
	}
};
