/**
 * Batch Error Continuation Option Undo (KMIP 1.4 §6.13 / 2.1 §9.6, Table 434): "If any operation in the request
 * fails, then the server SHALL undo all the previous operations", whose responses are then returned with Result
 * Status Operation Undone.
 *
 * Everything an operation of this server changes lives in the store, so undoing a batch is undoing its commits: the
 * items of an Undo batch see the store through an UndoJournal, which passes every call through and remembers, for
 * each object the batch changed, the record as it was before the batch first changed it (none for an object the
 * batch created). undo() puts those records back (and deletes what the batch created) in one atomic commit.
 *
 * What lives outside the store cannot be taken back this way, and the operations that change it refuse to run in an
 * Undo batch instead (context.ts RequestContext.undo): RNG Seed (the token's generator has taken the seed) and
 * the parts of a multi-part cryptographic operation (the token's operation state).
 *
 * Another request that changed one of these objects after the batch did is not overwritten: undo() then fails
 * (UndoConflict) and changes nothing, and the dispatcher says so in the answer instead of claiming an undo.
 */
import {
  StoreError,
  type LocateQuery,
  type ObjectStore,
  type StoreChange,
  type StoredObject,
} from '../store/store.js';

/** undo() could not restore the batch's objects: one was changed since by another request (or the store failed). */
export class UndoConflict extends Error {
  override readonly name = 'UndoConflict';
}

interface Change {
  /** The record before the batch first changed it; undefined when the batch created the object. */
  readonly before: StoredObject | undefined;
  /** The revision the batch's last change left (0: the batch deleted the record). */
  readonly after: number;
}

export class UndoJournal implements ObjectStore {
  readonly #inner: ObjectStore;
  readonly #changes = new Map<string, Change>();

  constructor(inner: ObjectStore) {
    this.#inner = inner;
  }

  get(uid: string): Promise<StoredObject | undefined> {
    return this.#inner.get(uid);
  }

  locate(query: LocateQuery): Promise<string[]> {
    return this.#inner.locate(query);
  }

  async commit(change: StoreChange): Promise<void> {
    const puts = change.put ?? [];
    const deletes = change.delete ?? [];
    // The record each change replaces: read first, and kept only for the batch's first change of an object. A
    // record that changed between this read and the commit makes the commit fail on its revision check, so what is
    // kept is exactly the record the commit replaced.
    const before = new Map<string, StoredObject | undefined>();
    for (const uid of [...puts.map((p) => p.object.uid), ...deletes.map((d) => d.uid)]) {
      if (!this.#changes.has(uid)) before.set(uid, await this.#inner.get(uid));
    }
    await this.#inner.commit(change);
    const remember = (uid: string, after: number): void => {
      const first = this.#changes.get(uid);
      this.#changes.set(uid, { before: first ? first.before : before.get(uid), after });
    };
    for (const { object } of puts) remember(object.uid, object.revision);
    for (const { uid } of deletes) remember(uid, 0);
  }

  getKek(owner: string): Promise<Uint8Array | undefined> {
    return this.#inner.getKek(owner);
  }

  /** An owner's first KEK is not undone: it protects nothing by itself, and a later request would make it again. */
  putKek(owner: string, record: Uint8Array, expected: Uint8Array | undefined): Promise<void> {
    return this.#inner.putKek(owner, record, expected);
  }

  listKeks(): AsyncIterable<readonly [owner: string, record: Uint8Array]> {
    return this.#inner.listKeks();
  }

  /** The journal does not own the store it passes calls to. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Puts back every object the batch changed, all at once, or nothing (UndoConflict). */
  async undo(): Promise<void> {
    const put: { object: StoredObject; expectedRevision: number }[] = [];
    const remove: { uid: string; expectedRevision: number }[] = [];
    for (const [uid, { before, after }] of this.#changes) {
      const current = (await this.#inner.get(uid))?.revision ?? 0;
      if (current !== after) {
        throw new UndoConflict(`object ${uid} was changed by another request after this batch changed it`);
      }
      if (before === undefined) {
        if (current !== 0) remove.push({ uid, expectedRevision: current });
      } else {
        put.push({ object: { ...before, revision: current + 1 }, expectedRevision: current });
      }
    }
    if (put.length === 0 && remove.length === 0) return;
    try {
      await this.#inner.commit({ put, delete: remove });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'conflict') {
        throw new UndoConflict(error.message, { cause: error });
      }
      throw error;
    }
    this.#changes.clear();
  }
}
