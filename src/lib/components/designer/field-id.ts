/**
 * The element id of the settings field reporting issues at `path` (`settings.session.groupSize`
 * → `field-settings-session-groupSize`), so the issue summary can jump to it.
 */
export function fieldIdFor(path: string): string {
	return `field-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}
