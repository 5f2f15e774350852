/**
 * Per-key mutual exclusion inside one process. Level has no transactions, so a commit's read-check-write of its
 * UIDs must not interleave with another commit on the same UIDs; commits on other UIDs must not wait (one global
 * lock would serialise every request, the anchors' mistake DESIGN.md names).
 *
 * acquire() queues the caller on every one of its keys in the same synchronous step, so the queues are all ordered
 * by the time of the acquire() calls: a waits-for cycle (deadlock) cannot form, whatever order the keys come in.
 */
export class KeyedLock {
  /** The promise the next holder of a key waits for; absent when nobody holds or waits for the key. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves, once every key is free, to the function that frees them again (call it exactly once). */
  async acquire(keys: Iterable<string>): Promise<() => void> {
    const unique = [...new Set(keys)];
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waits: Promise<void>[] = [];
    for (const key of unique) {
      const previous = this.#tails.get(key);
      if (previous !== undefined) waits.push(previous);
      this.#tails.set(key, done);
    }
    await Promise.all(waits);
    return () => {
      for (const key of unique) {
        // Forget the key only if nobody queued behind us, so the map does not grow with every UID ever used.
        if (this.#tails.get(key) === done) this.#tails.delete(key);
      }
      release();
    };
  }

  /** Keys held or waited for (tests check that the map is emptied). */
  get size(): number {
    return this.#tails.size;
  }
}
