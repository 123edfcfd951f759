/**
 * A participant's commands and what became of them. Each command settles as a result for the
 * component that sent it and, when refused, also as a notice kept for the whole room page: the
 * component may be gone by then (the chat box of a stage that ended while its message was being
 * resent after a reconnect), and a refusal nobody sees is a message silently lost.
 * Framework-free; `StudyRoom` mirrors the notices into runes.
 */
import { CommandError } from './errors';
import { describeRefusal } from './refusals';

/** How a member command ended: committed (or already committed), or refused with a reason. */
export type CommandResult = { ok: true } | { ok: false; reason: string; message: string };

/** A refusal shown on the room page until the participant dismisses it. */
export type RefusalNotice = { id: number; reason: string; text: string };

export type MemberCommandsOptions = {
	/** Sends a command; resolves once committed, rejects with a {@link CommandError}. */
	send: (name: string, payload: unknown) => Promise<unknown>;
	/** Called with the current notices whenever they change. */
	onNotices?: (notices: readonly RefusalNotice[]) => void;
	/** Notices kept at once; older ones give way (default 5). */
	maxNotices?: number;
};

// A handful is enough to read what went wrong; more would push the stage off a phone screen.
const DEFAULT_MAX_NOTICES = 5;

/** Runs member commands and keeps the refusals the participant has not dismissed yet. */
export class MemberCommands {
	readonly #options: MemberCommandsOptions;
	#notices: RefusalNotice[] = [];
	#nextId = 1;

	constructor(options: MemberCommandsOptions) {
		this.#options = options;
	}

	/** Refusals not yet dismissed, oldest first. */
	get notices(): readonly RefusalNotice[] {
		return this.#notices;
	}

	/**
	 * Sends `name` and waits for its outcome. A refusal whose reason is in `alreadyDone` (the
	 * same answer already stored, e.g. a resend after a refresh) counts as done; any other is
	 * returned and noted for the page.
	 */
	async run(
		name: string,
		payload: unknown,
		alreadyDone: readonly string[]
	): Promise<CommandResult> {
		try {
			await this.#options.send(name, payload);
			return { ok: true };
		} catch (error) {
			if (!(error instanceof CommandError)) throw error;
			if (alreadyDone.includes(error.reason)) return { ok: true };
			this.#note({ name, payload }, error);
			return { ok: false, reason: error.reason, message: error.message };
		}
	}

	/** Removes one notice (the participant read it). */
	dismiss(id: number): void {
		const kept = this.#notices.filter((notice) => notice.id !== id);
		if (kept.length === this.#notices.length) return;
		this.#set(kept);
	}

	#note(command: { name: string; payload: unknown }, error: CommandError): void {
		const text = describeRefusal(command, error);
		if (text === null) return;
		const notice = { id: this.#nextId++, reason: error.reason, text };
		const max = this.#options.maxNotices ?? DEFAULT_MAX_NOTICES;
		this.#set([...this.#notices, notice].slice(-max));
	}

	#set(notices: RefusalNotice[]): void {
		this.#notices = notices;
		this.#options.onNotices?.(notices);
	}
}
