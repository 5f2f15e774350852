/**
 * Token objects kept for reuse under a key (unwrapped owner KEKs, managed keys held for cryptographic calls): a
 * least-recently-used set of at most `capacity`, whose entries are counted while in use, so that an eviction or a
 * drop destroys the object only once the last call holding it has ended. Session objects belong to the application
 * (PKCS#11 v2.40 Usage Guide), so one object opened on any session serves every session.
 */
import type { Handle } from './pkcs11-module.js';

interface Entry<V> {
  readonly value: Promise<V>;
  resolved: V | undefined;
  users: number;
  /** Evicted or dropped: destroy when the last user is done. */
  dropped: boolean;
}

export class HeldObjects<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly capacity: number,
    private readonly handleOf: (value: V) => Handle,
    /** Destroys an object nobody holds any more (best effort: a session object goes with its session anyway). */
    private readonly destroy: (handle: Handle) => void,
  ) {}

  /**
   * The value held under `key`, opened with `open` on a miss, counted as in use until release(). A failed open
   * leaves nothing behind, so the next call tries again.
   */
  async acquire(key: string, open: () => Promise<V>): Promise<{ value: V; release: () => void }> {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { value: open(), resolved: undefined, users: 0, dropped: false };
      this.entries.set(key, entry);
    } else {
      // Least recently used first: move the hit to the end of the Map's insertion order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    const held = entry;
    held.users += 1;
    this.evict();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.dropped && held.users === 0 && held.resolved !== undefined)
        this.destroy(this.handleOf(held.resolved));
    };
    try {
      const value = await held.value;
      held.resolved = value;
      return { value, release };
    } catch (error) {
      if (this.entries.get(key) === held) this.entries.delete(key);
      release();
      throw error;
    }
  }

  /** Runs fn with the value held under `key` (see acquire). */
  async use<T>(key: string, open: () => Promise<V>, fn: (value: V) => Promise<T>): Promise<T> {
    const held = await this.acquire(key, open);
    try {
      return await fn(held.value);
    } finally {
      held.release();
    }
  }

  /** Drops the entry under `key`, if any: new calls open it again, calls holding it finish first. */
  drop(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    entry.dropped = true;
    if (entry.users === 0 && entry.resolved !== undefined) this.destroy(this.handleOf(entry.resolved));
  }

  /** Drops every entry whose key matches. */
  dropWhere(matches: (key: string) => boolean): void {
    for (const key of [...this.entries.keys()]) if (matches(key)) this.drop(key);
  }

  /** Forgets every entry without destroying anything (the objects go with their sessions on close). */
  clear(): void {
    this.entries.clear();
  }

  private evict(): void {
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.drop(key);
    }
  }
}
