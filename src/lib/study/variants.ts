import type { Stage } from './schema';

/** Who a stage is being shown to: their role and condition, or null before they are assigned. */
export type VariantMember = { role: string | null; condition: string | null };

type Variant = Stage['variants'][number];

/**
 * Whether a variant applies to a member. A list left empty places no constraint on that side,
 * but a variant naming neither roles nor conditions never matches: publishing refuses it, and a
 * draft should not silently replace everyone's content.
 */
export function matchVariant(when: Variant['when'], member: VariantMember): boolean {
	if (when.roles.length === 0 && when.conditions.length === 0) return false;
	const roleMatches =
		when.roles.length === 0 || (member.role !== null && when.roles.includes(member.role));
	const conditionMatches =
		when.conditions.length === 0 ||
		(member.condition !== null && when.conditions.includes(member.condition));
	return roleMatches && conditionMatches;
}

/**
 * The stage as one member sees it: `content` replaced by the first matching variant's content
 * (or kept when none matches) and `variants` emptied, so views never have to resolve again.
 * Pure: the input is not changed. The result shares the chosen content object with the input
 * rather than copying it (no structuredClone: it throws on the designer's `$state` proxies, and
 * sharing keeps a preview live while the content is edited), so treat it as read-only.
 */
export function resolveStageContent<S extends Stage>(stage: S, member: VariantMember): S {
	const variants = stage.variants as readonly Variant[];
	const match = variants.find((variant) => matchVariant(variant.when, member));
	return { ...stage, content: match ? match.content : stage.content, variants: [] };
}
