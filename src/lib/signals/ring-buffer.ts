/**
 * A fixed-capacity FIFO: pushing onto a full buffer overwrites the oldest item, so memory stays
 * bounded however fast items arrive.
 */
export class RingBuffer<T> {
	readonly #items: (T | undefined)[];
	/** Index of the oldest item. */
	#head = 0;
	#size = 0;

	constructor(readonly capacity: number) {
		if (!Number.isInteger(capacity) || capacity < 1) {
			throw new RangeError(`RingBuffer capacity must be a positive integer, got ${capacity}`);
		}
		this.#items = new Array<T | undefined>(capacity);
	}

	get size(): number {
		return this.#size;
	}

	/** Appends `item`, evicting the oldest one when full. */
	push(item: T): void {
		this.#items[(this.#head + this.#size) % this.capacity] = item;
		if (this.#size < this.capacity) this.#size++;
		else this.#head = (this.#head + 1) % this.capacity;
	}

	/** The oldest item, if any. */
	first(): T | undefined {
		return this.#size > 0 ? this.#items[this.#head] : undefined;
	}

	/** The newest item, if any. */
	last(): T | undefined {
		return this.#size > 0 ? this.#items[(this.#head + this.#size - 1) % this.capacity] : undefined;
	}

	/** Removes and returns the oldest item. */
	shift(): T | undefined {
		if (this.#size === 0) return undefined;
		const item = this.#items[this.#head];
		this.#items[this.#head] = undefined; // let it be collected
		this.#head = (this.#head + 1) % this.capacity;
		this.#size--;
		return item;
	}

	/** The items, oldest first. */
	toArray(): T[] {
		return Array.from(
			{ length: this.#size },
			(_, i) => this.#items[(this.#head + i) % this.capacity] as T
		);
	}
}
