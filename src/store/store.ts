/**
 * The object store: managed objects' metadata and sealed material, owner KEKs, and the indexes Locate works from.
 * The interface is narrow so that a shared SQL store can later serve several stateless server nodes. Everything
 * it stores is opaque bytes or plain index values: it knows no TTLV and no PKCS#11.
 */

/** What Locate can filter on (KMIP 1.4 §4.9; the attributes real clients locate by). */
export interface LocateIndex {
  /** Name attribute values (Name Value text). */
  readonly names: readonly string[];
  /** Cryptographic Algorithm, as the KMIP enumeration's normalized name ("AES"). */
  readonly algorithm?: string;
  readonly length?: number;
  /** Object Group values. */
  readonly groups: readonly string[];
  /** Custom attributes ("x-..."): name and the text form of each value. */
  readonly custom: readonly (readonly [name: string, value: string])[];
}

export interface StoredObject {
  readonly uid: string;
  /** 1 on creation, +1 on every change: commit() checks it to refuse lost updates. */
  readonly revision: number;
  readonly owner: string;
  /** KMIP Object Type, normalized name ("SymmetricKey"). */
  readonly objectType: string;
  /** KMIP State, normalized name ("PreActive", "Active", ...). */
  readonly state: string;
  readonly index: LocateIndex;
  /** Opaque to the store: the protocol layer's encoding of the object's attributes. */
  readonly attributes: Uint8Array;
  /** Opaque to the store: the sealed secret, or clear public material (public keys, certificates). */
  readonly material?: Uint8Array;
}

export interface LocateQuery {
  /** Only objects of these owners; undefined means every owner (an administrator's view). */
  readonly owners?: readonly string[];
  readonly objectType?: string;
  readonly state?: string;
  readonly name?: string;
  readonly algorithm?: string;
  readonly length?: number;
  readonly group?: string;
  /** Every pair must match. */
  readonly custom?: readonly (readonly [name: string, value: string])[];
  /** KMIP Offset Items (1.3+): matches to skip. */
  readonly offset?: number;
  /** KMIP Maximum Items. */
  readonly limit?: number;
  /**
   * Newest object first (KMIP 2.0/2.1 §6.1.28: several identifiers "in descending order of object creation");
   * oldest first when absent. Offset and limit count in this order.
   */
  readonly newestFirst?: boolean;
}

export interface StoreChange {
  /**
   * Objects to write. `expectedRevision` is the revision the caller read (0: the object must not exist yet), and
   * `object.revision` must be `expectedRevision + 1` (StoreError 'invalid' otherwise).
   */
  readonly put?: readonly { readonly object: StoredObject; readonly expectedRevision: number }[];
  /** Objects to delete, with the revision the caller read (at least 1). A UID may appear once per change. */
  readonly delete?: readonly { readonly uid: string; readonly expectedRevision: number }[];
}

/**
 * conflict: a stale revision or KEK record (retry from a fresh read); corrupt: stored bytes this code cannot read
 * (or a schema newer than it knows); closed: the store was closed; io: the database failed (the cause is attached);
 * invalid: the caller's change or query cannot be stored as given (a bug above the store, never a race).
 */
export type StoreErrorCode = 'conflict' | 'corrupt' | 'closed' | 'io' | 'invalid';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
  }
}

export interface ObjectStore {
  get(uid: string): Promise<StoredObject | undefined>;
  /** Applies every put and delete of one request atomically, or none (StoreError 'conflict' on a stale revision). */
  commit(change: StoreChange): Promise<void>;
  /** UIDs of matching objects, oldest first (or newest first when asked), from the indexes (never a scan). */
  locate(query: LocateQuery): Promise<string[]>;

  /** Owner KEKs, stored as the opaque bytes the caller gives. */
  getKek(owner: string): Promise<Uint8Array | undefined>;
  /** Sets an owner's KEK record; `expected` is the record the caller read (undefined: there must be none). */
  putKek(owner: string, record: Uint8Array, expected: Uint8Array | undefined): Promise<void>;
  listKeks(): AsyncIterable<readonly [owner: string, record: Uint8Array]>;

  close(): Promise<void>;
}
