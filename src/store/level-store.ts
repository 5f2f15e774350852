/**
 * ObjectStore over any abstract-level database (classic-level in production, memory-level in tests).
 *
 * Key layout (schema version 1; keys.ts has the details, README.md the same table):
 *
 *   m "schema"                               -> ASCII decimal schema version; a newer one is refused at open
 *   m "seq"                                  -> ASCII decimal high-water mark of creation sequence numbers
 *   o <uid>                                  -> object record: format byte, seq, revision, fields, bytes (codec.ts)
 *   k <owner>                                -> KEK record: format byte + the caller's bytes
 *   c <seq:8>                                -> entry (uid, owner): every object, in creation order
 *   w <owner> FF <seq:8>                     -> entry: one owner's objects, in creation order
 *   a <field> <value> FF <seq:8>             -> entry: attribute index over all owners
 *   p <owner> FF <field> <value> FF <seq:8>  -> entry: attribute index within one owner
 *   <field>: t object type, s state, n name, a algorithm, l length, g group, c custom (<name> FF <value>)
 *
 * Consistency: level has no transactions, so commit() holds a per-UID lock (keyed-lock.ts) while it reads the
 * stored revisions, checks them and writes ONE batch with the records and exactly the entries that changed.
 * Commits on other UIDs run concurrently. The lock is per process: two processes must not open one database
 * (LevelDB's own LOCK file already refuses that).
 */
// eslint.config.js bans the level packages in all of src/ and has no src/store entry yet to allow them here, the
// one folder DESIGN.md lets import them. Drop these two comments when it has.
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';

import {
  decodeEntry,
  decodeKek,
  decodeObject,
  encodeEntry,
  encodeKek,
  encodeObject,
  RecordFormatError,
} from './codec.js';
import type { IndexEntry, ObjectRecord } from './codec.js';
import {
  attributePart,
  attributePrefix,
  createdKey,
  describeKey,
  Field,
  indexKey,
  kekKey,
  lengthText,
  objectKey,
  ownerPrefix,
  Prefix,
  prefixRange,
  SCHEMA_KEY,
  SEQ_KEY,
  seqOfKey,
  toBytes,
} from './keys.js';
import type { KeyString } from './keys.js';
import { KeyedLock } from './keyed-lock.js';
import { StoreError } from './store.js';
import type { LocateQuery, ObjectStore, StoreChange, StoredObject } from './store.js';

/** The schema this code writes and reads. Raise it with a migration in open() when the key layout changes. */
export const SCHEMA_VERSION = 1;

/** One operation of a level batch, with Uint8Array keys and values. */
export type LevelBatchOperation =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array };

export interface LevelIteratorOptions {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface LevelIterator {
  nextv(size: number): Promise<[Uint8Array, Uint8Array][]>;
  close(): Promise<void>;
}

/**
 * The part of abstract-level the store uses, for a database opened with keyEncoding and valueEncoding 'view'.
 * Structural, so that tests can wrap a database to count what the store reads.
 */
export interface LevelDatabase {
  open(): Promise<void>;
  close(): Promise<void>;
  /**
   * A read on the calling thread (abstract-level 3 getSync): a record is a few hundred bytes, in LevelDB's memtable
   * or block cache or the OS page cache, and reading it costs a few microseconds, where the asynchronous get costs a
   * hand-off to the libuv pool and back (measured: about a quarter of the event loop's time in a Create).
   */
  getSync(key: Uint8Array): Uint8Array | undefined;
  /** Many records at once, on the libuv pool: Locate reads candidates in chunks of up to MAX_CHUNK. */
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  batch(operations: LevelBatchOperation[]): Promise<void>;
  iterator(options: LevelIteratorOptions): LevelIterator;
}

/** Opens (creating if needed) a LevelDB store in a directory. */
export async function openLevelStore(dir: string): Promise<LevelObjectStore> {
  return LevelObjectStore.open(
    new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' }),
  );
}

/** A store in memory (tests, and layers above that need a real store in their own tests). */
export async function openMemoryStore(): Promise<LevelObjectStore> {
  return LevelObjectStore.open(
    new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }),
  );
}

/** Locate reads index entries in chunks that grow from this size... */
const FIRST_CHUNK = 16;
/** ...to this one: large enough to amortise a native call, small enough that an early stop wastes little. */
const MAX_CHUNK = 1024;

/** A candidate from an index range: its creation seq, UID and owner. */
interface Candidate extends IndexEntry {
  readonly seq: number;
}

/** Keys and meta values we wrote are UTF-8: anything else is corruption, not text to patch with U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Any well-formed string is storable: UTF-8 of a lone surrogate would silently become U+FFFD. */
function checkText(value: string, what: string): void {
  if (!value.isWellFormed()) throw new StoreError('invalid', `${what} is not well-formed Unicode`);
}

function checkCount(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new StoreError('invalid', `${what} must be a non-negative integer, got ${value}`);
  }
}

function checkObject(object: StoredObject, expectedRevision: number): void {
  const { uid, index } = object;
  if (uid === '') throw new StoreError('invalid', 'empty UID');
  checkText(uid, 'UID');
  checkCount(expectedRevision, `expected revision of ${uid}`);
  // The stored revision is always the read one + 1: a caller that sends another number has lost track of it.
  if (object.revision !== expectedRevision + 1) {
    throw new StoreError(
      'invalid',
      `object ${uid}: revision ${object.revision} must be expected revision ${expectedRevision} + 1`,
    );
  }
  checkText(object.owner, `owner of ${uid}`);
  checkText(object.objectType, `object type of ${uid}`);
  checkText(object.state, `state of ${uid}`);
  for (const name of index.names) checkText(name, `name of ${uid}`);
  for (const group of index.groups) checkText(group, `group of ${uid}`);
  for (const [name, value] of index.custom) {
    checkText(name, `custom attribute name of ${uid}`);
    checkText(value, `custom attribute value of ${uid}`);
  }
  if (index.algorithm !== undefined) checkText(index.algorithm, `algorithm of ${uid}`);
  // The length index stores decimal text: only integers have exactly one.
  if (index.length !== undefined && !Number.isSafeInteger(index.length)) {
    throw new StoreError('invalid', `object ${uid}: length ${index.length} is not an integer`);
  }
}

/** The (field, value) parts an object is indexed under, without duplicates. */
function attributeParts(object: StoredObject): Set<string> {
  const { index } = object;
  const parts = new Set<string>();
  parts.add(attributePart(Field.objectType, object.objectType));
  parts.add(attributePart(Field.state, object.state));
  for (const name of index.names) parts.add(attributePart(Field.name, name));
  if (index.algorithm !== undefined) parts.add(attributePart(Field.algorithm, index.algorithm));
  if (index.length !== undefined) parts.add(attributePart(Field.length, lengthText(index.length)));
  for (const group of index.groups) parts.add(attributePart(Field.group, group));
  for (const [name, value] of index.custom) parts.add(attributePart(Field.custom, name, value));
  return parts;
}

/** Every index key of an object (not its record key). */
function entryKeys(seq: number, object: StoredObject): Set<KeyString> {
  const keys = new Set<KeyString>([createdKey(seq), indexKey(ownerPrefix(object.owner), seq)]);
  for (const part of attributeParts(object)) {
    keys.add(indexKey(attributePrefix(part), seq));
    keys.add(indexKey(attributePrefix(part, object.owner), seq));
  }
  return keys;
}

/** Does a stored object satisfy every filter of a query? */
function matches(object: StoredObject, query: LocateQuery, owners: ReadonlySet<string> | undefined): boolean {
  const { index } = object;
  if (owners !== undefined && !owners.has(object.owner)) return false;
  if (query.objectType !== undefined && object.objectType !== query.objectType) return false;
  if (query.state !== undefined && object.state !== query.state) return false;
  if (query.name !== undefined && !index.names.includes(query.name)) return false;
  if (query.algorithm !== undefined && index.algorithm !== query.algorithm) return false;
  if (query.length !== undefined && index.length !== query.length) return false;
  if (query.group !== undefined && !index.groups.includes(query.group)) return false;
  for (const [name, value] of query.custom ?? []) {
    if (!index.custom.some(([n, v]) => n === name && v === value)) return false;
  }
  return true;
}

/**
 * The index Locate reads: the most selective filter the query has, by what its values usually look like (a name
 * is nearly unique; a state is shared by most objects). The store keeps no statistics, so this order is fixed.
 * `covered` says the range alone satisfies the query (with the owners check on the entry): no record read.
 */
function choosePart(query: LocateQuery): { part: string | undefined; covered: boolean } {
  const custom = query.custom ?? [];
  const candidates: [string, boolean][] = [];
  const firstCustom = custom[0];
  if (query.name !== undefined) candidates.push([attributePart(Field.name, query.name), true]);
  if (firstCustom !== undefined)
    candidates.push([attributePart(Field.custom, firstCustom[0], firstCustom[1]), true]);
  if (query.group !== undefined) candidates.push([attributePart(Field.group, query.group), true]);
  if (query.algorithm !== undefined) candidates.push([attributePart(Field.algorithm, query.algorithm), true]);
  if (query.length !== undefined)
    candidates.push([attributePart(Field.length, lengthText(query.length)), true]);
  if (query.objectType !== undefined)
    candidates.push([attributePart(Field.objectType, query.objectType), true]);
  if (query.state !== undefined) candidates.push([attributePart(Field.state, query.state), true]);
  const first = candidates[0];
  // Filters other than the chosen one: a second candidate, or a second custom pair.
  const covered = candidates.length <= 1 && custom.length <= 1;
  return { part: first?.[0], covered };
}

/** An index range read in growing chunks, one candidate at a time. */
class RangeCursor {
  readonly #it: LevelIterator;
  #items: [Uint8Array, Uint8Array][] = [];
  #at = 0;
  #chunk: number;
  #ended = false;

  constructor(it: LevelIterator, firstChunk: number) {
    this.#it = it;
    this.#chunk = firstChunk;
  }

  /** The next candidate without consuming it; undefined at the end of the range. */
  async peek(): Promise<Candidate | undefined> {
    if (this.#at >= this.#items.length) {
      if (this.#ended) return undefined;
      this.#items = await this.#it.nextv(this.#chunk);
      this.#at = 0;
      this.#chunk = Math.min(this.#chunk * 2, MAX_CHUNK);
      if (this.#items.length === 0) {
        this.#ended = true;
        return undefined;
      }
    }
    const item = this.#items[this.#at];
    if (item === undefined) return undefined;
    const [key, value] = item;
    const seq = seqOfKey(key);
    let entry: IndexEntry;
    try {
      if (seq === undefined) throw new RecordFormatError('index key too short for a sequence number');
      entry = decodeEntry(value);
    } catch (cause) {
      throw corrupt(key, cause);
    }
    return { seq, uid: entry.uid, owner: entry.owner };
  }

  skip(): void {
    this.#at += 1;
  }

  close(): Promise<void> {
    return this.#it.close();
  }
}

/**
 * Yields the candidates of several ranges merged by creation seq (each range is already in seq order, ascending or,
 * with `descending`, read in reverse).
 */
async function* mergeBySeq(cursors: readonly RangeCursor[], descending: boolean): AsyncGenerator<Candidate> {
  for (;;) {
    let best: Candidate | undefined;
    let bestCursor: RangeCursor | undefined;
    for (const cursor of cursors) {
      const head = await cursor.peek();
      if (
        head !== undefined &&
        (best === undefined || (descending ? head.seq > best.seq : head.seq < best.seq))
      ) {
        best = head;
        bestCursor = cursor;
      }
    }
    if (best === undefined || bestCursor === undefined) return;
    bestCursor.skip();
    yield best;
  }
}

function corrupt(key: Uint8Array | string, cause: unknown): StoreError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new StoreError('corrupt', `key ${describeKey(key)}: ${why}`, { cause });
}

function levelCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

function decodeRecordAt(key: KeyString, value: Uint8Array): ObjectRecord {
  try {
    return decodeObject(value);
  } catch (cause) {
    throw corrupt(key, cause);
  }
}

function parseDecimal(key: KeyString, value: Uint8Array): number {
  let text: string;
  try {
    text = strictUtf8.decode(value);
  } catch (cause) {
    throw corrupt(key, cause);
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw corrupt(key, `not a decimal number: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** A synchronous result as the promise of an ObjectStore method: a throw becomes a rejection, as from an async one. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** A copy whose byte fields the caller may zero without touching the cached record. */
function copyOf(object: StoredObject): StoredObject {
  return {
    ...object,
    attributes: object.attributes.slice(),
    ...(object.material === undefined ? {} : { material: object.material.slice() }),
  };
}

export class LevelObjectStore implements ObjectStore {
  readonly #db: LevelDatabase;
  readonly #locks = new KeyedLock();
  /** The last creation sequence number handed out; only grows. */
  #seq: number;
  #closed = false;
  /** Group commit (#writeGrouped): the operations and callers queued for the next write, and whether one is out. */
  #queued: LevelBatchOperation[] = [];
  #queuedWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #writing = false;
  /**
   * Records read or written recently, newest last (a Map keeps insertion order, which makes it an LRU). Every write
   * goes through commit() in this process (LevelDB locks its directory to one process), and commit() drops the
   * cached records it changes once its batch has landed (or failed), so a cached record is the stored one: a get()
   * reads and caches in one synchronous step, and what it cached while a batch was in flight is dropped after it.
   * Saves a LevelDB read on every Get of a hot key.
   */
  readonly #cache = new Map<string, ObjectRecord>();

  private constructor(db: LevelDatabase, seq: number) {
    this.#db = db;
    this.#seq = seq;
  }

  /**
   * Opens the database and checks its schema: an empty database is initialised; a newer schema is refused (this
   * code would misread it); a database with data but no schema key is not ours. On any refusal the database is
   * closed again, so that its directory lock is released.
   */
  static async open(db: LevelDatabase): Promise<LevelObjectStore> {
    try {
      await db.open();
    } catch (cause) {
      throw new StoreError('io', `cannot open the database: ${String(cause)}`, { cause });
    }
    try {
      const seq = await LevelObjectStore.#checkSchema(db);
      return new LevelObjectStore(db, seq);
    } catch (error) {
      await db.close().catch(() => undefined);
      if (error instanceof StoreError) throw error;
      throw new StoreError('io', `cannot open the database: ${String(error)}`, { cause: error });
    }
  }

  static async #checkSchema(db: LevelDatabase): Promise<number> {
    const schema = db.getSync(toBytes(SCHEMA_KEY));
    if (schema === undefined) {
      const it = db.iterator({ limit: 1 });
      const [first] = await it.nextv(1).finally(() => it.close());
      if (first !== undefined) {
        throw new StoreError(
          'corrupt',
          `no schema version key ${describeKey(SCHEMA_KEY)}, but the database holds data (first key ${describeKey(first[0])})`,
        );
      }
      await db.batch([
        { type: 'put', key: toBytes(SCHEMA_KEY), value: toBytes(String(SCHEMA_VERSION)) },
        { type: 'put', key: toBytes(SEQ_KEY), value: toBytes('0') },
      ]);
      return 0;
    }
    const version = parseDecimal(SCHEMA_KEY, schema);
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        'corrupt',
        `the database has schema version ${version}, newer than the ${SCHEMA_VERSION} this server reads: upgrade the server`,
      );
    }
    if (version < SCHEMA_VERSION) {
      // No older schema has ever been released, so there is nothing to migrate from.
      throw new StoreError(
        'corrupt',
        `unknown schema version ${version} (this server reads ${SCHEMA_VERSION})`,
      );
    }
    // Writes land one after another (group commit), each with the highest seq allocated so far; a database written
    // before group commit may have landed batches out of order and left the high-water key behind, which the
    // newest creation entry cannot be: the next seq is above both.
    const seqValue = db.getSync(toBytes(SEQ_KEY));
    const stored = seqValue === undefined ? 0 : parseDecimal(SEQ_KEY, seqValue);
    const it = db.iterator({ ...prefixRange(Prefix.created), reverse: true, limit: 1 });
    const [last] = await it.nextv(1).finally(() => it.close());
    const newest = last === undefined ? 0 : seqOfKey(last[0]);
    if (newest === undefined) throw corrupt(last?.[0] ?? '', 'index key too short for a sequence number');
    return Math.max(stored, newest);
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('closed', 'the store is closed');
  }

  /** #io() for a synchronous database call (getSync). */
  #ioSync<T>(what: string, call: () => T): T {
    this.#checkOpen();
    try {
      return call();
    } catch (error) {
      throw this.#mapError(what, error);
    }
  }

  /** Runs a database call, mapping its failure: after close() it is 'closed', otherwise 'io' with the cause. */
  async #io<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await call();
    } catch (error) {
      throw this.#mapError(what, error);
    }
  }

  #mapError(what: string, error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    const code = levelCode(error);
    if (this.#closed || code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN') {
      return new StoreError('closed', `${what}: the store is closed`, { cause: error });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new StoreError('io', `${what}: ${message}`, { cause: error });
  }

  #iterator(what: string, options: LevelIteratorOptions): LevelIterator {
    this.#checkOpen();
    try {
      return this.#db.iterator(options);
    } catch (error) {
      throw this.#mapError(what, error);
    }
  }

  get(uid: string): Promise<StoredObject | undefined> {
    return settle(() => {
      this.#checkOpen();
      const cached = this.#cache.get(uid);
      if (cached) {
        this.#remember(uid, cached);
        return copyOf(cached.object);
      }
      // Read and cached in one synchronous step: no commit can land in between (a commit in flight drops what is
      // cached for its UIDs once its batch has landed).
      const key = objectKey(uid);
      const value = this.#ioSync(`get ${uid}`, () => this.#db.getSync(toBytes(key)));
      if (value === undefined) return undefined;
      const record = decodeRecordAt(key, value);
      this.#remember(uid, { seq: record.seq, object: copyOf(record.object) });
      return record.object;
    });
  }

  /** Records kept in memory; past this the least recently used are dropped. */
  static readonly cacheSize = 8192;

  #remember(uid: string, record: ObjectRecord): void {
    this.#cache.delete(uid);
    this.#cache.set(uid, record);
    if (this.#cache.size > LevelObjectStore.cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  async commit(change: StoreChange): Promise<void> {
    this.#checkOpen();
    const puts = change.put ?? [];
    const deletes = change.delete ?? [];
    const uids: string[] = [];
    for (const { object, expectedRevision } of puts) {
      checkObject(object, expectedRevision);
      uids.push(object.uid);
    }
    for (const { uid, expectedRevision } of deletes) {
      checkText(uid, 'UID');
      // Deleting what the caller never read (revision 0) is a bug in the caller, not a race.
      if (!Number.isSafeInteger(expectedRevision) || expectedRevision < 1) {
        throw new StoreError(
          'invalid',
          `delete of ${uid}: expected revision must be at least 1, got ${expectedRevision}`,
        );
      }
      uids.push(uid);
    }
    if (new Set(uids).size !== uids.length) {
      throw new StoreError('invalid', `a change names one UID twice: ${uids.join(', ')}`);
    }
    if (uids.length === 0) return;

    const release = await this.#locks.acquire(uids.map((uid) => Prefix.object + uid));
    try {
      const keys = uids.map(objectKey);
      const values = this.#ioSync('commit: read stored revisions', () =>
        keys.map((key) => this.#db.getSync(toBytes(key))),
      );
      const stored = new Map<string, ObjectRecord>();
      keys.forEach((key, i) => {
        const value = values[i];
        const uid = uids[i];
        if (value !== undefined && uid !== undefined) stored.set(uid, decodeRecordAt(key, value));
      });

      // Check every revision before writing anything: one stale revision refuses the whole change.
      const revisionOf = (uid: string): number => stored.get(uid)?.object.revision ?? 0;
      for (const { object, expectedRevision } of puts) {
        const current = revisionOf(object.uid);
        if (current !== expectedRevision) throw conflict(object.uid, expectedRevision, current);
      }
      for (const { uid, expectedRevision } of deletes) {
        const current = revisionOf(uid);
        if (current !== expectedRevision) throw conflict(uid, expectedRevision, current);
      }

      const ops: LevelBatchOperation[] = [];
      let allocated = false;
      for (const { object } of puts) {
        const previous = stored.get(object.uid);
        let seq: number;
        if (previous === undefined) {
          this.#seq += 1;
          seq = this.#seq;
          allocated = true;
        } else {
          seq = previous.seq;
        }
        ops.push({ type: 'put', key: toBytes(objectKey(object.uid)), value: encodeObject({ seq, object }) });
        const before =
          previous === undefined ? new Set<KeyString>() : entryKeys(previous.seq, previous.object);
        const after = entryKeys(seq, object);
        // An entry's value carries the owner: when the owner changes, every entry is rewritten.
        const rewriteAll = previous !== undefined && previous.object.owner !== object.owner;
        const entry = encodeEntry({ uid: object.uid, owner: object.owner });
        for (const key of before) if (!after.has(key)) ops.push({ type: 'del', key: toBytes(key) });
        for (const key of after) {
          if (rewriteAll || !before.has(key)) ops.push({ type: 'put', key: toBytes(key), value: entry });
        }
      }
      for (const { uid } of deletes) {
        const previous = stored.get(uid);
        if (previous === undefined) continue;
        ops.push({ type: 'del', key: toBytes(objectKey(uid)) });
        for (const key of entryKeys(previous.seq, previous.object))
          ops.push({ type: 'del', key: toBytes(key) });
      }
      if (allocated) ops.push({ type: 'put', key: toBytes(SEQ_KEY), value: toBytes(String(this.#seq)) });
      try {
        await this.#writeGrouped(ops);
      } finally {
        // Whether the batch landed or not, what is cached for these UIDs may be stale now: drop it. The next get()
        // reads the record from the database and caches it again.
        for (const uid of uids) this.#cache.delete(uid);
      }
    } finally {
      release();
    }
  }

  async locate(query: LocateQuery): Promise<string[]> {
    this.#checkOpen();
    checkCount(query.offset, 'offset');
    checkCount(query.limit, 'limit');
    const offset = query.offset ?? 0;
    const limit = query.limit ?? Infinity;
    const owners = query.owners === undefined ? undefined : new Set(query.owners);
    if (limit === 0 || owners?.size === 0) return [];

    const { part, covered } = choosePart(query);
    // The ranges to read: one over all owners, or one per owner (merged by seq), for the chosen attribute or none.
    const prefixes: KeyString[] =
      owners === undefined
        ? [part === undefined ? (Prefix.created as KeyString) : attributePrefix(part)]
        : [...owners].map((owner) =>
            part === undefined ? ownerPrefix(owner) : attributePrefix(part, owner),
          );
    // A covered query over one range needs exactly offset + limit entries: read no more than that.
    const wanted = offset + limit;
    const single = covered && prefixes.length === 1;
    const firstChunk = single ? Math.min(wanted, MAX_CHUNK) : FIRST_CHUNK;
    const cursors: RangeCursor[] = [];
    try {
      for (const prefix of prefixes) {
        const options = {
          ...prefixRange(prefix),
          ...(query.newestFirst === true && { reverse: true }),
          ...(single && Number.isFinite(wanted) && { limit: wanted }),
        };
        cursors.push(new RangeCursor(this.#iterator('locate', options), firstChunk));
      }
      return await this.#io('locate', () =>
        this.#collect(mergeBySeq(cursors, query.newestFirst === true), query, owners, covered, offset, limit),
      );
    } finally {
      await Promise.all(cursors.map((cursor) => cursor.close().catch(() => undefined)));
    }
  }

  /** Takes candidates in creation order (or its reverse), checks what the range did not, and keeps matches offset..offset+limit. */
  async #collect(
    candidates: AsyncGenerator<Candidate>,
    query: LocateQuery,
    owners: ReadonlySet<string> | undefined,
    covered: boolean,
    offset: number,
    limit: number,
  ): Promise<string[]> {
    const found: string[] = [];
    let skipped = 0;
    const accept = (uid: string): boolean => {
      if (skipped < offset) skipped += 1;
      else found.push(uid);
      return found.length >= limit;
    };
    if (covered) {
      for await (const candidate of candidates) {
        if (accept(candidate.uid)) break;
      }
      return found;
    }
    // Other filters are checked on the records, read in chunks (one getMany each) as the candidates come.
    let chunk = FIRST_CHUNK;
    let batch: Candidate[] = [];
    const flush = async (): Promise<boolean> => {
      const keys = batch.map((candidate) => objectKey(candidate.uid));
      const values = await this.#db.getMany(keys.map(toBytes));
      for (let i = 0; i < keys.length; i += 1) {
        const key = keys[i];
        const value = values[i];
        // Absent: deleted after the index range was opened.
        if (key === undefined || value === undefined) continue;
        const { object } = decodeRecordAt(key, value);
        if (matches(object, query, owners) && accept(object.uid)) return true;
      }
      batch = [];
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      return false;
    };
    for await (const candidate of candidates) {
      // The owners filter is on the entry: other owners' objects cost no record read.
      if (owners !== undefined && !owners.has(candidate.owner)) continue;
      batch.push(candidate);
      if (batch.length >= chunk && (await flush())) return found;
    }
    if (batch.length > 0) await flush();
    return found;
  }

  getKek(owner: string): Promise<Uint8Array | undefined> {
    return settle(() => {
      const key = kekKey(owner);
      const value = this.#ioSync(`get KEK of ${owner}`, () => this.#db.getSync(toBytes(key)));
      return value === undefined ? undefined : decodeKekAt(key, value);
    });
  }

  async putKek(owner: string, record: Uint8Array, expected: Uint8Array | undefined): Promise<void> {
    this.#checkOpen();
    checkText(owner, 'KEK owner');
    const key = kekKey(owner);
    const release = await this.#locks.acquire([Prefix.kek + owner]);
    try {
      const value = this.#ioSync(`put KEK of ${owner}: read`, () => this.#db.getSync(toBytes(key)));
      const current = value === undefined ? undefined : decodeKekAt(key, value);
      if (!sameBytes(current, expected)) {
        throw new StoreError(
          'conflict',
          `KEK of owner ${owner}: ${expected === undefined ? 'expected none' : 'expected the record read earlier'}, ${current === undefined ? 'none is stored' : 'another is stored'}`,
        );
      }
      await this.#io(`put KEK of ${owner}: write`, () =>
        this.#db.batch([{ type: 'put', key: toBytes(key), value: encodeKek(record) }]),
      );
    } finally {
      release();
    }
  }

  async *listKeks(): AsyncGenerator<readonly [owner: string, record: Uint8Array]> {
    const it = this.#iterator('list KEKs', prefixRange(Prefix.kek));
    try {
      for (;;) {
        const items = await this.#io('list KEKs', () => it.nextv(64));
        if (items.length === 0) return;
        for (const [key, value] of items) {
          let owner: string;
          try {
            owner = strictUtf8.decode(key.subarray(1));
          } catch (cause) {
            throw corrupt(key, cause);
          }
          yield [owner, decodeKekAt(key, value)] as const;
        }
      }
    } finally {
      await it.close().catch(() => undefined);
    }
  }

  /**
   * Group commit: writes a commit's batch together with the batches other commits queued while the previous write
   * was in flight, in one LevelDB batch. A lone commit is written at once; under load each write carries several.
   * Why: a batch call's fixed cost on the event loop (the native call, its promise, the trip through libuv's pool)
   * is a tenth of a Create's time there, and the loop is what limits Create (bench: srv loop ~97%).
   * What stays true: each commit's records and index entries land in one LevelDB batch, all or nothing, now with
   * those of the commits beside it, which fail with it if the write fails (none of them landed then). Commits in
   * one write touch different UIDs (each holds its UIDs' locks until its write lands), and their operations keep
   * the order the commits queued them in, so the sequence high-water key written last is the highest allocated.
   */
  #writeGrouped(ops: LevelBatchOperation[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      for (const op of ops) this.#queued.push(op);
      this.#queuedWaiters.push({ resolve, reject });
      if (!this.#writing) this.#writeQueued();
    });
  }

  #writeQueued(): void {
    const ops = this.#queued;
    const waiters = this.#queuedWaiters;
    this.#queued = [];
    this.#queuedWaiters = [];
    this.#writing = true;
    this.#io('commit: write batch', () => this.#db.batch(ops)).then(
      () => {
        for (const waiter of waiters) waiter.resolve();
        this.#writeNext();
      },
      (error: unknown) => {
        for (const waiter of waiters) waiter.reject(error);
        this.#writeNext();
      },
    );
  }

  #writeNext(): void {
    this.#writing = false;
    if (this.#queuedWaiters.length > 0) this.#writeQueued();
  }

  /** Closes the database; every later call fails with StoreError('closed'). Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#db.close();
    } catch (cause) {
      throw new StoreError('io', `close: ${String(cause)}`, { cause });
    }
  }

  /** UIDs held or waited for by commits in progress (tests check the lock map empties). */
  get lockedKeys(): number {
    return this.#locks.size;
  }
}

function conflict(uid: string, expected: number, stored: number): StoreError {
  return new StoreError(
    'conflict',
    `object ${uid}: expected revision ${expected}, stored ${stored === 0 ? '0 (none)' : String(stored)}`,
  );
}

function decodeKekAt(key: Uint8Array | string, value: Uint8Array): Uint8Array {
  try {
    return decodeKek(value);
  } catch (cause) {
    throw corrupt(key, cause);
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
