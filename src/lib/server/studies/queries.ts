import { and, asc, desc, eq, exists, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { hashStudyDefinition } from '../../study';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { participants, studies, studyMembers, studyVersions, users } from '../db/schema';
import { canEditStudy, canManageStudy, loadStudyForUser, resolveStudyAccess } from './access';
import { listStudyChanges } from './changes';
import { getStudyLink } from './links';
import { listMembersOfStudy } from './sharing';
import type { StudyDetail, StudySummary } from './types';
import { readStoredDefinition } from './validation';

const owners = alias(users, 'owner');
const editors = alias(users, 'editor');

/**
 * The studies `user` can see, most recently changed first: active ones, or with
 * `archived: true` only the archived ones.
 */
export async function listStudies(
	db: Database,
	user: SessionUser,
	options: { archived: boolean }
): Promise<StudySummary[]> {
	const visible =
		user.role === 'admin'
			? undefined
			: or(
					eq(studies.ownerId, user.id),
					exists(
						db
							.select({ one: sql`1` })
							.from(studyMembers)
							.where(and(eq(studyMembers.studyId, studies.id), eq(studyMembers.userId, user.id)))
					)
				);
	const rows = await db
		.select({
			id: studies.id,
			slug: studies.slug,
			title: studies.title,
			status: studies.status,
			archivedAt: studies.archivedAt,
			latestVersion: studies.latestVersion,
			ownerId: studies.ownerId,
			ownerName: owners.name,
			updatedAt: studies.updatedAt,
			updatedBy: editors.name,
			permission: studyMembers.permission,
			participants: sql<number>`(select count(*) from ${participants} where ${participants.studyId} = ${studies.id})::int`,
			// jsonb equality ignores key order, like the content hash does.
			unpublished: sql<boolean>`(${studies.latestVersion} is null or ${studies.draft} is distinct from (select ${studyVersions.definition} from ${studyVersions} where ${studyVersions.studyId} = ${studies.id} and ${studyVersions.version} = ${studies.latestVersion}))`
		})
		.from(studies)
		.innerJoin(owners, eq(owners.id, studies.ownerId))
		.leftJoin(editors, eq(editors.id, studies.updatedBy))
		.leftJoin(
			studyMembers,
			and(eq(studyMembers.studyId, studies.id), eq(studyMembers.userId, user.id))
		)
		.where(
			and(options.archived ? isNotNull(studies.archivedAt) : isNull(studies.archivedAt), visible)
		)
		.orderBy(desc(studies.updatedAt), asc(studies.id));
	return rows.flatMap((row) => {
		const access = resolveStudyAccess(user, row.ownerId, row.permission);
		if (!access) return [];
		return [
			{
				id: row.id,
				slug: row.slug,
				title: row.title,
				status: row.status,
				archived: row.archivedAt !== null,
				latestVersion: row.latestVersion,
				participants: Number(row.participants),
				owner: { id: row.ownerId, name: row.ownerName },
				access,
				updatedAt: row.updatedAt,
				updatedBy: row.updatedBy,
				hasUnpublishedChanges: Boolean(row.unpublished)
			}
		];
	});
}

/** Everything the study page needs; null when the study is missing or not visible to `user`. */
export async function getStudyDetail(
	db: Database,
	user: SessionUser,
	id: string
): Promise<StudyDetail | null> {
	const found = await loadStudyForUser(db, user, id);
	if (!found) return null;
	const { study, access } = found;
	const [versions, [owner], members, changes] = await Promise.all([
		db
			.select({
				version: studyVersions.version,
				contentHash: studyVersions.contentHash,
				publishedAt: studyVersions.publishedAt,
				publishedBy: users.name
			})
			.from(studyVersions)
			.leftJoin(users, eq(users.id, studyVersions.publishedBy))
			.where(eq(studyVersions.studyId, id))
			.orderBy(desc(studyVersions.version)),
		db
			.select({ id: users.id, name: users.name, email: users.email })
			.from(users)
			.where(eq(users.id, study.ownerId)),
		listMembersOfStudy(db, id),
		listStudyChanges(db, id)
	]);
	// Re-parsed so keys come back in schema order (jsonb reorders them) for the editor.
	const draft = readStoredDefinition(study.id, study.draft);
	const latest = versions.find((version) => version.version === study.latestVersion);
	return {
		id: study.id,
		slug: study.slug,
		title: study.title,
		status: study.status,
		archived: study.archivedAt !== null,
		access,
		canEdit: canEditStudy(access),
		canManage: canManageStudy(access),
		draft,
		revision: study.draftRevision,
		draftHash: hashStudyDefinition(draft),
		latestVersion: study.latestVersion,
		latestHash: latest?.contentHash ?? null,
		versions,
		owner: owner!,
		members,
		changes,
		link: getStudyLink(study.slug)
	};
}
