import { parse, unflatten } from 'devalue';

/**
 * A participant driven over HTTP exactly as the study page drives it: the Start form, the
 * page's form actions (as `use:enhance` calls them), its data endpoint and the heartbeat.
 * `base` is where requests go (a server, a replica or the balancer), `origin` the app's ORIGIN.
 */
export type JourneyServer = { base: string; origin: string };

export type Step = { kind: string; [key: string]: unknown };

export type ActionResult = { type: string; status: number; data: Record<string, unknown> | null };

/** POSTs "Start" as the page's form does without JS. */
export function startParticipant(
	server: JourneyServer,
	slug: string,
	cookie = '',
	link = ''
): Promise<Response> {
	return fetch(`${server.base}/s/${slug}?/start`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: server.origin,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'text/html',
			...(cookie ? { cookie } : {})
		},
		body: new URLSearchParams({ link })
	});
}

/** Starts a new participant; returns their study cookie as `name=value`. */
export async function joinStudy(server: JourneyServer, slug: string): Promise<string> {
	const response = await startParticipant(server, slug);
	if (response.status !== 303) throw new Error(`start: ${response.status}`);
	const set = response.headers.getSetCookie().find((c) => c.startsWith(`ensemble_p_${slug}=`));
	if (!set) throw new Error('no participant cookie');
	return set.split(';')[0]!;
}

/** The page's data, as the browser's client-side navigation reads it. */
export async function readStep(
	server: JourneyServer,
	slug: string,
	cookie: string
): Promise<Step | null> {
	const response = await fetch(`${server.base}/s/${slug}/__data.json`, {
		headers: cookie ? { cookie } : {}
	});
	if (response.status !== 200) throw new Error(`__data.json: ${response.status}`);
	const body = (await response.json()) as { nodes: ({ data: unknown[] } | null)[] };
	const node = body.nodes.at(-1)!;
	return (unflatten(node.data) as { step: Step | null }).step;
}

/** A form action as `use:enhance` calls it; answers the action's status and data. */
export async function actOnStep(
	server: JourneyServer,
	slug: string,
	cookie: string,
	action: string,
	fields: Record<string, string> = {}
): Promise<ActionResult> {
	const response = await fetch(`${server.base}/s/${slug}?/${action}`, {
		method: 'POST',
		headers: {
			origin: server.origin,
			cookie,
			accept: 'application/json',
			'x-sveltekit-action': 'true',
			'content-type': 'application/x-www-form-urlencoded'
		},
		body: new URLSearchParams(fields)
	});
	const body = (await response.json()) as { type: string; status: number; data?: string };
	return {
		type: body.type,
		status: body.status,
		data: body.data ? (parse(body.data) as Record<string, unknown>) : null
	};
}

/** Submits a pre-room stage's response. */
export function respondToStage(
	server: JourneyServer,
	slug: string,
	cookie: string,
	stageId: string,
	response: unknown
): Promise<ActionResult> {
	return actOnStep(server, slug, cookie, 'respond', {
		stageId,
		response: JSON.stringify(response)
	});
}

/** The waiting page's heartbeat. */
export async function sendHeartbeat(
	server: JourneyServer,
	slug: string,
	cookie: string
): Promise<{ status: string; view: { waiting: number } | null }> {
	const response = await fetch(`${server.base}/s/${slug}/heartbeat`, {
		method: 'POST',
		headers: { origin: server.origin, cookie }
	});
	if (response.status !== 200) throw new Error(`heartbeat: ${response.status}`);
	return (await response.json()) as { status: string; view: { waiting: number } | null };
}
