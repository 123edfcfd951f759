/** Where a participant's study-room socket lives (docs/PROTOCOL.md §8a). */

/** `ws(s)://host/s/<slug>/realtime/<roomId>`: under the path the study cookie is scoped to. */
export function buildStudySocketUrl(origin: string, slug: string, roomId: string): string {
	const url = new URL(
		`/s/${encodeURIComponent(slug)}/realtime/${encodeURIComponent(roomId)}`,
		origin
	);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	return url.toString();
}
