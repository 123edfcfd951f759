import type { StudyDefinition, StudyIssue } from '../../study';
import type { StudyPermission, StudyStatus } from '../db/schema';

export type { StudyStatus, StudyPermission };

/** How a user reaches a study; `view` may only read it. */
export type StudyAccess = 'admin' | 'owner' | 'edit' | 'view';

/** A study in the dashboard list. */
export type StudySummary = {
	id: string;
	slug: string;
	title: string;
	status: StudyStatus;
	archived: boolean;
	latestVersion: number | null;
	participants: number;
	owner: { id: string; name: string };
	access: StudyAccess;
	updatedAt: Date;
	/** Name of who changed it last; null when that account is gone. */
	updatedBy: string | null;
	/** The draft differs from the latest published version (or nothing is published yet). */
	hasUnpublishedChanges: boolean;
};

export type StudyVersionSummary = {
	version: number;
	contentHash: string;
	publishedAt: Date;
	publishedBy: string | null;
};

export type StudyMemberListing = {
	userId: string;
	name: string;
	email: string;
	permission: StudyPermission;
	/** Holds the data permission (external ids, per-participant export and erasure). */
	dataAccess: boolean;
};

export type StudyChangeListing = {
	at: Date;
	user: string | null;
	action: string;
	detail: unknown;
};

/** Everything the study page shows. */
export type StudyDetail = {
	id: string;
	slug: string;
	title: string;
	status: StudyStatus;
	archived: boolean;
	access: StudyAccess;
	/** May edit the draft, publish, pause, resume and close. */
	canEdit: boolean;
	/** May share and archive. */
	canManage: boolean;
	draft: StudyDefinition;
	revision: number;
	draftHash: string;
	latestVersion: number | null;
	latestHash: string | null;
	/** Newest first. */
	versions: StudyVersionSummary[];
	owner: { id: string; name: string; email: string };
	members: StudyMemberListing[];
	/** Newest first, at most 50. */
	changes: StudyChangeListing[];
	/** The public participant link. */
	link: string;
};

/** The file `exportStudy` produces and `importStudy` accepts. */
export type StudyExport = {
	format: 'ensemble-study';
	exportedAt: string;
	/** The published version exported, or null for the draft. */
	version: number | null;
	contentHash: string;
	definition: StudyDefinition;
};

export type CreateStudyResult =
	| { ok: true; id: string }
	| { ok: false; reason: 'forbidden' }
	| { ok: false; reason: 'unknown_template' }
	| { ok: false; reason: 'invalid'; issues: StudyIssue[] };

/** Every action written to the change log. */
export type StudyChangeAction =
	| 'created'
	| 'imported'
	| 'duplicated'
	| 'draft_saved'
	| 'published'
	| 'paused'
	| 'resumed'
	| 'closed'
	| 'archived'
	| 'unarchived'
	| 'shared'
	| 'unshared'
	| 'data_access_granted'
	| 'data_access_revoked';
