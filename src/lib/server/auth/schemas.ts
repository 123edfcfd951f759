import * as v from 'valibot';
import { ROLES } from '../db/schema';
import { PASSWORD_MAX_LENGTH } from './password-policy';

/** Emails are compared lower-cased and trimmed. */
export const Email = v.pipe(
	v.string('Enter your email address.'),
	v.trim(),
	v.nonEmpty('Enter your email address.'),
	v.maxLength(254, 'That email address is too long.'),
	v.email('Enter a valid email address.'),
	v.toLowerCase()
);

export const DisplayName = v.pipe(
	v.string('Enter your name.'),
	v.trim(),
	v.nonEmpty('Enter your name.'),
	v.maxLength(100, 'Use at most 100 characters.')
);

/** Only shape here; the policy (length, common passwords) is `checkPasswordPolicy`. */
export const Password = v.pipe(
	v.string('Enter a password.'),
	v.nonEmpty('Enter a password.'),
	// Generous bound so the policy can give the precise message; stops megabyte "passwords".
	v.maxLength(PASSWORD_MAX_LENGTH * 4, 'That password is too long.')
);

export const Role = v.picklist(ROLES, 'Choose admin, researcher or viewer.');

export const SignInInput = v.object({ email: Email, password: Password });
export type SignInInput = v.InferOutput<typeof SignInInput>;

export const NewAccountInput = v.object({ email: Email, name: DisplayName, password: Password });
export type NewAccountInput = v.InferOutput<typeof NewAccountInput>;

export const InviteInput = v.object({
	role: Role,
	email: v.optional(v.union([v.literal(''), Email]))
});
export type InviteInput = v.InferOutput<typeof InviteInput>;

export const UserUpdateInput = v.pipe(
	v.object({ role: v.optional(Role), disabled: v.optional(v.boolean('Expected true or false.')) }),
	v.check(
		(input) => input.role !== undefined || input.disabled !== undefined,
		'Nothing to change: send role and/or disabled.'
	)
);
export type UserUpdateInput = v.InferOutput<typeof UserUpdateInput>;

/** The account forms ask for the password twice. */
export const NewAccountForm = v.pipe(
	v.object({ ...NewAccountInput.entries, confirm: v.string() }),
	v.forward(
		v.partialCheck(
			[['password'], ['confirm']],
			(input) => input.password === input.confirm,
			'The two passwords do not match.'
		),
		['confirm']
	)
);

export const ChangePasswordForm = v.pipe(
	v.object({ current: Password, password: Password, confirm: v.string() }),
	v.forward(
		v.partialCheck(
			[['password'], ['confirm']],
			(input) => input.password === input.confirm,
			'The two passwords do not match.'
		),
		['confirm']
	)
);
