import { sql } from 'drizzle-orm';
import type { Executor } from '../db';
import type { Role, StudyPermission } from '../db/schema';
import { canEditStudy, resolveStudyAccess } from '../studies/access';
import type { TicketCredential } from './tickets';

/**
 * Access grants: what keeps a signed-in person's socket open. Every room socket opened by an
 * experimenter or observer (by cookie or by ticket) and every monitor socket carries one; the
 * upgrade checks it before opening, and the access watcher checks all open ones twice a second,
 * so unsharing, demoting or disabling someone, or ending their session, reaches their sockets
 * within a second. Participants' sockets carry none: their identity is their study cookie.
 */
export type AccessGrant = {
	userId: string;
	/** The study whose access counts; null for a sandbox room. */
	studyId: string | null;
	/** The session or API token behind it. */
	credential: TicketCredential;
	/**
	 * What the socket needs to stay open. `edit`: an experimenter (and sandbox guests, which
	 * need the right to mint them); `view`: an observer or a view-only dashboard.
	 */
	needs: 'edit' | 'view';
};

/** `signed_out`: the session or token ended (sign in again); `revoked`: the access is gone. */
export type GrantVerdict = 'ok' | 'signed_out' | 'revoked';

/** What the database says now about one grant's user, credential and study. */
export type GrantFacts = {
	role: Role;
	disabled: boolean;
	credentialLive: boolean;
	/** The study's owner and the user's share; null when the study no longer exists. */
	study: { ownerId: string; permission: StudyPermission | null } | null;
};

/**
 * Judges a grant against the current facts (undefined: the user no longer exists). Pure; the
 * same rules as the dashboard (`resolveStudyAccess`), so a socket never outlives what a page
 * load would allow.
 */
export function judgeGrant(grant: AccessGrant, facts: GrantFacts | undefined): GrantVerdict {
	if (!facts || facts.disabled) return 'revoked';
	if (!facts.credentialLive) return 'signed_out';
	if (grant.studyId === null) {
		return grant.needs === 'edit' && facts.role === 'viewer' ? 'revoked' : 'ok';
	}
	if (!facts.study) return 'revoked';
	const access = resolveStudyAccess(
		{ id: grant.userId, role: facts.role },
		facts.study.ownerId,
		facts.study.permission
	);
	if (!access) return 'revoked';
	return grant.needs === 'edit' && !canEditStudy(access) ? 'revoked' : 'ok';
}

/** What the query looks up once per distinct (user, study, credential). */
function factsKey(grant: AccessGrant): string {
	return JSON.stringify([grant.userId, grant.studyId, grant.credential.kind, grant.credential.id]);
}

type FactsRow = {
	k: string;
	role: Role;
	disabled: boolean;
	credential_live: boolean;
	owner_id: string | null;
	permission: StudyPermission | null;
};

/** Result rows of a raw query: postgres.js returns an array, PGlite `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
	return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Checks many grants in ONE query over their distinct (user, study, credential), however many
 * sockets share them; returns the verdict for each grant passed in (by position). Sessions count
 * until their absolute expiry: an open socket is activity (`touchSessions`).
 */
export async function checkGrants(
	db: Executor,
	grants: readonly AccessGrant[],
	now: Date
): Promise<GrantVerdict[]> {
	if (grants.length === 0) return [];
	const distinct = new Map<string, AccessGrant>();
	for (const grant of grants) distinct.set(factsKey(grant), grant);
	const wanted = [...distinct].map(([k, g]) => ({
		k,
		u: g.userId,
		s: g.studyId,
		ck: g.credential.kind,
		c: g.credential.id
	}));
	// One parameter however many grants: jsonb_to_recordset turns it into rows.
	const result = await db.execute(sql`
		select g.k, u.role, u.disabled_at is not null as disabled,
			case g.ck
				when 'session' then exists (
					select 1 from sessions s
					where s.id = g.c and s.user_id = g.u and s.expires_at > ${now.toISOString()}::timestamptz)
				else exists (
					select 1 from api_tokens t
					where t.id = g.c and t.user_id = g.u and t.revoked_at is null)
			end as credential_live,
			st.owner_id, m.permission
		from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as g(k text, u text, s text, ck text, c text)
		join users u on u.id = g.u
		left join studies st on st.id = g.s
		left join study_members m on m.study_id = g.s and m.user_id = g.u`);
	const facts = new Map<string, GrantFacts>();
	for (const row of rowsOf<FactsRow>(result)) {
		facts.set(row.k, {
			role: row.role,
			disabled: Boolean(row.disabled),
			credentialLive: Boolean(row.credential_live),
			study: row.owner_id === null ? null : { ownerId: row.owner_id, permission: row.permission }
		});
	}
	return grants.map((grant) => judgeGrant(grant, facts.get(factsKey(grant))));
}
