import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { loadMonitorPage } from '$lib/server/monitor';
import type { PageServerLoad } from './$types';

/** The monitor's names and permissions; the live picture itself comes over the socket. */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const monitor = await loadMonitorPage(await getDatabase(), user, params.id);
	if (!monitor) error(404, 'No such study, or it is not shared with you.');
	return { monitor };
};
