import { parse, unflatten } from 'devalue';
import type { StageResponse } from '$lib/study';
import { participantCookieName } from '../participants/cookies';
import type { JourneyStep } from '../participants/journey';

/**
 * A participant's side of the study link over HTTP, exactly as the study page drives it: the
 * Start form, the page's form actions (as `use:enhance` calls them), its data endpoint and the
 * waiting room's heartbeat. Bots use nothing a browser could not, so a pilot with bots
 * exercises the same paths as real participants.
 */

/** Where requests go (`url`, e.g. the loopback address) and the `Origin` they carry. */
export type BotTarget = { url: string; origin: string };

export type ActionResult = { type: string; status: number; data: Record<string, unknown> | null };

export class LinkClient {
	readonly #target: BotTarget;
	readonly #slug: string;
	readonly #signal: AbortSignal;
	#token: string | null;

	constructor(target: BotTarget, slug: string, token: string | null, signal: AbortSignal) {
		this.#target = target;
		this.#slug = slug;
		this.#token = token;
		this.#signal = signal;
	}

	get slug(): string {
		return this.#slug;
	}

	/** The study cookie as a `Cookie` header value ('' before Start). */
	get cookie(): string {
		return this.#token ? `${participantCookieName(this.#slug)}=${this.#token}` : '';
	}

	get target(): BotTarget {
		return this.#target;
	}

	#headers(extra: Record<string, string> = {}): Record<string, string> {
		return {
			origin: this.#target.origin,
			...(this.#token ? { cookie: this.cookie } : {}),
			...extra
		};
	}

	/**
	 * "Start" as the page's form posts it: creates a participant, or resumes the one behind
	 * the cookie. Answers why not when the study refuses (paused, closed, gone).
	 */
	async start(): Promise<{ ok: true } | { ok: false; reason: string }> {
		const response = await fetch(`${this.#target.url}/s/${this.#slug}?/start`, {
			method: 'POST',
			redirect: 'manual',
			signal: this.#signal,
			headers: this.#headers({
				'content-type': 'application/x-www-form-urlencoded',
				accept: 'text/html'
			}),
			body: new URLSearchParams({ link: '' })
		});
		await response.body?.cancel();
		if (response.status !== 303) return { ok: false, reason: `start_${response.status}` };
		const name = `${participantCookieName(this.#slug)}=`;
		const set = response.headers.getSetCookie().find((cookie) => cookie.startsWith(name));
		const token = set?.split(';')[0]?.slice(name.length);
		if (token) this.#token = token;
		return this.#token ? { ok: true } : { ok: false, reason: 'no_cookie' };
	}

	/** The participant's current step, as the page's client-side navigation reads it. */
	async readStep(): Promise<JourneyStep | null> {
		const response = await fetch(`${this.#target.url}/s/${this.#slug}/__data.json`, {
			signal: this.#signal,
			headers: this.#headers()
		});
		if (!response.ok) throw new Error(`reading the step answered ${response.status}`);
		const body = (await response.json()) as { nodes?: ({ data?: unknown[] } | null)[] };
		const node = body.nodes?.at(-1);
		if (!node?.data) throw new Error('the study page sent no data');
		return (unflatten(node.data) as { step: JourneyStep | null }).step;
	}

	/** A form action of the study page (`respond`, `ready`, `join`, `create`). */
	async act(action: string, fields: Record<string, string> = {}): Promise<ActionResult> {
		const response = await fetch(`${this.#target.url}/s/${this.#slug}?/${action}`, {
			method: 'POST',
			signal: this.#signal,
			headers: this.#headers({
				accept: 'application/json',
				'x-sveltekit-action': 'true',
				'content-type': 'application/x-www-form-urlencoded'
			}),
			body: new URLSearchParams(fields)
		});
		const body = (await response.json()) as { type: string; status?: number; data?: string };
		return {
			type: body.type,
			status: body.status ?? response.status,
			data: body.data ? (parse(body.data) as Record<string, unknown>) : null
		};
	}

	/** Submits a pre-room stage's response. */
	respond(stageId: string, response: StageResponse): Promise<ActionResult> {
		return this.act('respond', { stageId, response: JSON.stringify(response) });
	}

	/** The waiting room's heartbeat; answers the participant's status. */
	async beat(): Promise<string | null> {
		const response = await fetch(`${this.#target.url}/s/${this.#slug}/heartbeat`, {
			method: 'POST',
			signal: this.#signal,
			headers: this.#headers()
		});
		if (!response.ok) throw new Error(`the heartbeat answered ${response.status}`);
		return ((await response.json()) as { status: string | null }).status;
	}

	/** The room socket's address under the study link, where the study cookie is sent. */
	roomSocketUrl(roomId: string): string {
		const base = new URL(this.#target.url);
		base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
		base.pathname = `/s/${this.#slug}/realtime/${roomId}`;
		return base.toString();
	}
}
