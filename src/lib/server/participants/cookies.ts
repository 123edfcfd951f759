import type { Cookies } from '@sveltejs/kit';
import { getEnv } from '../config/env';
import { isParticipantToken } from './token';

/** Long enough for a scheduled session days away or a multi-day study; the token is per study. */
const COOKIE_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

/** What every participant cookie's name starts with (the study's slug follows). */
export const PARTICIPANT_COOKIE_PREFIX = 'ensemble_p_';

/** One cookie per study, so participating in two studies never mixes identities. */
export function participantCookieName(slug: string): string {
	return `${PARTICIPANT_COOKIE_PREFIX}${slug}`;
}

/**
 * The cookie's attributes: HttpOnly (scripts never see the token), SameSite=Lax (sent when the
 * participant follows the link from Prolific or a chat app), Secure over https, and a path
 * scoped to the study link so no other page receives it.
 */
export function participantCookieOptions(slug: string, secure: boolean) {
	return {
		path: `/s/${slug}`,
		httpOnly: true,
		sameSite: 'lax' as const,
		secure,
		maxAge: COOKIE_MAX_AGE_SECONDS
	};
}

/** Stores the participant's token. The token is never logged; neither is this call. */
export function setParticipantCookie(
	cookies: Cookies,
	slug: string,
	token: string,
	secure = getEnv().secureCookies
): void {
	cookies.set(participantCookieName(slug), token, participantCookieOptions(slug, secure));
}

/** The token from the study's cookie, or null when absent or not token-shaped. */
export function readParticipantCookie(cookies: Cookies, slug: string): string | null {
	const value = cookies.get(participantCookieName(slug));
	return isParticipantToken(value) ? value : null;
}

export function deleteParticipantCookie(
	cookies: Cookies,
	slug: string,
	secure = getEnv().secureCookies
): void {
	cookies.delete(participantCookieName(slug), {
		path: `/s/${slug}`,
		httpOnly: true,
		sameSite: 'lax',
		secure
	});
}
