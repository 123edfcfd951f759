import { studyLink } from '../../study/links';
import { getEnv } from '../config/env';

/** The public participant link of a study on this instance: `<ORIGIN>/s/<slug>`. */
export function getStudyLink(slug: string): string {
	return studyLink(getEnv().origin, slug);
}
