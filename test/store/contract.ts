/**
 * The ObjectStore contract, run against every database the level store sits on (memory-store.test.ts,
 * level-store.test.ts). Each test opens its own empty store through the harness, so tests run concurrently.
 *
 * Locate is checked three ways: hand-written expectations, a fast-check property against an in-test oracle (a plain
 * filter over every object, the scan the store must not do), and a read counter on a wrapped database proving
 * that one name among 2,000 objects costs a handful of reads.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { LevelObjectStore } from '../../src/store/level-store.js';
import type {
  LevelBatchOperation,
  LevelDatabase,
  LevelIteratorOptions,
} from '../../src/store/level-store.js';
import { StoreError } from '../../src/store/store.js';
import type { LocateIndex, LocateQuery, StoredObject, StoreErrorCode } from '../../src/store/store.js';

/** Gives a fresh, empty, open database (key and value encoding 'view'); the harness cleans up after the test. */
export type OpenDatabase = (t: ExecutionContext) => Promise<LevelDatabase>;

export interface ObjectSpec {
  readonly owner?: string;
  readonly objectType?: string;
  readonly state?: string;
  readonly names?: readonly string[];
  readonly algorithm?: string | undefined;
  readonly length?: number | undefined;
  readonly groups?: readonly string[];
  readonly custom?: readonly (readonly [string, string])[];
  readonly attributes?: Uint8Array;
  readonly material?: Uint8Array;
  readonly revision?: number;
}

export function makeObject(uid: string, spec: ObjectSpec = {}): StoredObject {
  const index: LocateIndex = {
    names: spec.names ?? [],
    ...(spec.algorithm !== undefined && { algorithm: spec.algorithm }),
    ...(spec.length !== undefined && { length: spec.length }),
    groups: spec.groups ?? [],
    custom: spec.custom ?? [],
  };
  return {
    uid,
    revision: spec.revision ?? 1,
    owner: spec.owner ?? 'alice',
    objectType: spec.objectType ?? 'SymmetricKey',
    state: spec.state ?? 'PreActive',
    index,
    attributes: spec.attributes ?? new TextEncoder().encode(`attributes of ${uid}`),
    ...(spec.material !== undefined && { material: spec.material }),
  };
}

/** Creates objects one commit each, in order (so creation order is the array's order). */
export async function createAll(store: LevelObjectStore, objects: readonly StoredObject[]): Promise<void> {
  for (const object of objects) await store.commit({ put: [{ object, expectedRevision: 0 }] });
}

/** Wraps an object's next revision, as a caller that read it would write it. */
function next(object: StoredObject, changes: ObjectSpec): StoredObject {
  return makeObject(object.uid, {
    owner: object.owner,
    objectType: object.objectType,
    state: object.state,
    names: object.index.names,
    ...(object.index.algorithm !== undefined && { algorithm: object.index.algorithm }),
    ...(object.index.length !== undefined && { length: object.index.length }),
    groups: object.index.groups,
    custom: object.index.custom,
    attributes: object.attributes,
    ...(object.material !== undefined && { material: object.material }),
    ...changes,
    revision: object.revision + 1,
  });
}

export async function storeError(
  t: ExecutionContext,
  promise: Promise<unknown>,
  code: StoreErrorCode,
  ...mentions: string[]
): Promise<StoreError> {
  // ava 7's failed assertions throw, so past this line the error is there.
  const error = await t.throwsAsync(promise, { instanceOf: StoreError });
  t.is(error.code, code, error.message);
  for (const mention of mentions)
    t.true(error.message.includes(mention), `"${error.message}" names ${mention}`);
  return error;
}

/** The read counter: entries returned by iterators and keys asked for by get/getMany. */
export interface ReadCounts {
  entries: number;
  gets: number;
  /** batch() calls: writes to the database. */
  batches: number;
}

/**
 * A database that delegates everything and counts reads and writes; `failWrites.on` makes batch() fail like a
 * broken disk, `failWrites.next` fails that many batch() calls and then writes again.
 */
export function instrument(db: LevelDatabase): {
  db: LevelDatabase;
  counts: ReadCounts;
  failWrites: { on: boolean; next: number };
} {
  const counts: ReadCounts = { entries: 0, gets: 0, batches: 0 };
  const failWrites = { on: false, next: 0 };
  const wrapped: LevelDatabase = {
    open: () => db.open(),
    close: () => db.close(),
    getSync: (key: Uint8Array) => {
      counts.gets += 1;
      return db.getSync(key);
    },
    getMany: (keys: Uint8Array[]) => {
      counts.gets += keys.length;
      return db.getMany(keys);
    },
    batch: (operations: LevelBatchOperation[]) => {
      counts.batches += 1;
      const fail = failWrites.on || failWrites.next > 0;
      if (failWrites.next > 0) failWrites.next -= 1;
      return fail ? Promise.reject(new Error('simulated disk failure')) : db.batch(operations);
    },
    iterator: (options: LevelIteratorOptions) => {
      const it = db.iterator(options);
      return {
        nextv: async (size: number) => {
          const items = await it.nextv(size);
          counts.entries += items.length;
          return items;
        },
        close: () => it.close(),
      };
    },
  };
  return { db: wrapped, counts, failWrites };
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const allBytes = (): Uint8Array => Uint8Array.from({ length: 256 }, (_, i) => i);
const raw = (text: string): Uint8Array => Buffer.from(text, 'latin1');

export function storeContract(label: string, openDatabase: OpenDatabase): void {
  const openStore = async (t: ExecutionContext): Promise<LevelObjectStore> => {
    const store = await LevelObjectStore.open(await openDatabase(t));
    t.teardown(() => store.close());
    return store;
  };

  test(`${label}: create, get, update, delete round trip byte-exact`, async (t) => {
    const store = await openStore(t);
    const created = makeObject('uid-1', {
      names: ['first', 'ünïcödé \u0000 nul'],
      algorithm: 'AES',
      length: 256,
      groups: ['g1'],
      custom: [['x-purpose', 'backup']],
      attributes: allBytes(),
      material: bytes(0, 255, 0, 1),
    });
    t.is(await store.get('uid-1'), undefined);
    await store.commit({ put: [{ object: created, expectedRevision: 0 }] });
    t.deepEqual(await store.get('uid-1'), created);

    // Update: new attributes, material removed (the optional field is absent, not undefined).
    const updated: StoredObject = {
      ...makeObject('uid-1', { names: ['second'], state: 'Active', attributes: bytes(), revision: 2 }),
    };
    await store.commit({ put: [{ object: updated, expectedRevision: 1 }] });
    const got = await store.get('uid-1');
    t.deepEqual(got, updated);
    t.false(got !== undefined && 'material' in got);

    // Empty material is kept apart from no material.
    const empty = next(updated, { material: bytes() });
    await store.commit({ put: [{ object: empty, expectedRevision: 2 }] });
    t.deepEqual((await store.get('uid-1'))?.material, bytes());

    await store.commit({ delete: [{ uid: 'uid-1', expectedRevision: 3 }] });
    t.is(await store.get('uid-1'), undefined);
    t.is(store.lockedKeys, 0);
  });

  test(`${label}: returned bytes are copies the caller may zero`, async (t) => {
    const store = await openStore(t);
    await createAll(store, [makeObject('u', { material: bytes(1, 2, 3), attributes: bytes(4, 5) })]);
    const first = await store.get('u');
    first?.material?.fill(0);
    first?.attributes.fill(0);
    const second = await store.get('u');
    t.deepEqual(second?.material, bytes(1, 2, 3));
    t.deepEqual(second?.attributes, bytes(4, 5));
  });

  test(`${label}: a stale revision conflicts, naming the UID and both revisions`, async (t) => {
    const store = await openStore(t);
    const v1 = makeObject('k1');
    await createAll(store, [v1]);
    const v2 = next(v1, { state: 'Active' });
    await store.commit({ put: [{ object: v2, expectedRevision: 1 }] });
    // A second writer that also read revision 1.
    await storeError(
      t,
      store.commit({ put: [{ object: next(v1, { state: 'Deactivated' }), expectedRevision: 1 }] }),
      'conflict',
      'k1',
      'expected revision 1',
      'stored 2',
    );
    // Creating an existing UID.
    await storeError(
      t,
      store.commit({ put: [{ object: v1, expectedRevision: 0 }] }),
      'conflict',
      'k1',
      'stored 2',
    );
    // Deleting with a stale revision, or deleting what is not there.
    await storeError(t, store.commit({ delete: [{ uid: 'k1', expectedRevision: 1 }] }), 'conflict', 'k1');
    await storeError(
      t,
      store.commit({ delete: [{ uid: 'nope', expectedRevision: 1 }] }),
      'conflict',
      'nope',
      'none',
    );
    t.deepEqual(await store.get('k1'), v2);
  });

  test(`${label}: a change with one conflict writes nothing`, async (t) => {
    const store = await openStore(t);
    const existing = makeObject('old', { names: ['old-name'] });
    await createAll(store, [existing]);
    const fresh = makeObject('new', { names: ['fresh'], groups: ['g'] });
    await storeError(
      t,
      store.commit({
        put: [
          { object: fresh, expectedRevision: 0 },
          { object: makeObject('old', { names: ['renamed'], revision: 6 }), expectedRevision: 5 },
        ],
      }),
      'conflict',
      'old',
    );
    t.is(await store.get('new'), undefined);
    t.deepEqual(await store.get('old'), existing);
    t.deepEqual(await store.locate({ name: 'fresh' }), []);
    t.deepEqual(await store.locate({ group: 'g' }), []);
    t.deepEqual(await store.locate({ name: 'renamed' }), []);
    t.deepEqual(await store.locate({}), ['old']);
    // Put and delete in one change, both valid: both land.
    await store.commit({
      put: [{ object: fresh, expectedRevision: 0 }],
      delete: [{ uid: 'old', expectedRevision: 1 }],
    });
    t.deepEqual(await store.locate({}), ['new']);
  });

  test(`${label}: changes the store cannot take are refused as invalid`, async (t) => {
    const store = await openStore(t);
    const object = makeObject('x');
    await storeError(t, store.commit({ put: [{ object, expectedRevision: 1 }] }), 'invalid', 'revision');
    await storeError(
      t,
      store.commit({ put: [{ object, expectedRevision: 0 }], delete: [{ uid: 'x', expectedRevision: 1 }] }),
      'invalid',
      'twice',
    );
    await storeError(t, store.commit({ delete: [{ uid: 'x', expectedRevision: 0 }] }), 'invalid');
    await storeError(
      t,
      store.commit({ put: [{ object: makeObject('y', { names: ['lone \ud800'] }), expectedRevision: 0 }] }),
      'invalid',
      'well-formed',
    );
    await storeError(
      t,
      store.commit({ put: [{ object: makeObject('z', { length: 1.5 }), expectedRevision: 0 }] }),
      'invalid',
      'length',
    );
    await storeError(t, store.commit({ put: [{ object: makeObject(''), expectedRevision: 0 }] }), 'invalid');
    await storeError(t, store.locate({ offset: -1 }), 'invalid', 'offset');
    await storeError(t, store.locate({ limit: 0.5 }), 'invalid', 'limit');
    t.deepEqual(await store.locate({}), []);
  });

  test(`${label}: renaming moves the name index; every changed attribute moves its index`, async (t) => {
    const store = await openStore(t);
    const v1 = makeObject('k', {
      names: ['old', 'kept'],
      state: 'PreActive',
      algorithm: 'AES',
      length: 128,
      groups: ['g-old'],
      custom: [['x-a', '1']],
    });
    await createAll(store, [v1]);
    const v2 = next(v1, {
      names: ['new', 'kept'],
      state: 'Active',
      algorithm: 'ChaCha20',
      length: 256,
      groups: ['g-new'],
      custom: [['x-a', '2']],
    });
    await store.commit({ put: [{ object: v2, expectedRevision: 1 }] });
    for (const stale of [
      { name: 'old' },
      { state: 'PreActive' },
      { algorithm: 'AES' },
      { length: 128 },
      { group: 'g-old' },
      { custom: [['x-a', '1']] as const },
    ]) {
      t.deepEqual(await store.locate(stale), [], JSON.stringify(stale));
      t.deepEqual(await store.locate({ ...stale, owners: ['alice'] }), [], `alice ${JSON.stringify(stale)}`);
    }
    for (const fresh of [
      { name: 'new' },
      { name: 'kept' },
      { state: 'Active' },
      { algorithm: 'ChaCha20' },
      { length: 256 },
      { group: 'g-new' },
      { custom: [['x-a', '2']] as const },
    ]) {
      t.deepEqual(await store.locate(fresh), ['k'], JSON.stringify(fresh));
      t.deepEqual(
        await store.locate({ ...fresh, owners: ['alice'] }),
        ['k'],
        `alice ${JSON.stringify(fresh)}`,
      );
    }
    // A change of owner moves the object between tenants.
    const v3 = next(v2, { owner: 'bob' });
    await store.commit({ put: [{ object: v3, expectedRevision: 2 }] });
    t.deepEqual(await store.locate({ owners: ['alice'] }), []);
    t.deepEqual(await store.locate({ owners: ['alice'], name: 'new' }), []);
    t.deepEqual(await store.locate({ owners: ['bob'], name: 'new' }), ['k']);
    t.deepEqual(await store.locate({ owners: ['bob'] }), ['k']);
  });

  test(`${label}: after delete nothing locates the object`, async (t) => {
    const store = await openStore(t);
    const spec: ObjectSpec = {
      names: ['n'],
      algorithm: 'AES',
      length: 256,
      groups: ['g'],
      custom: [['x-c', 'v']],
      state: 'Active',
      objectType: 'SecretData',
    };
    await createAll(store, [makeObject('gone', spec), makeObject('stays', { owner: 'bob' })]);
    await store.commit({ delete: [{ uid: 'gone', expectedRevision: 1 }] });
    const queries: LocateQuery[] = [
      {},
      { name: 'n' },
      { algorithm: 'AES' },
      { length: 256 },
      { group: 'g' },
      { custom: [['x-c', 'v']] },
      { state: 'Active' },
      { objectType: 'SecretData' },
    ];
    for (const query of queries) {
      t.deepEqual(await store.locate({ ...query, owners: ['alice'] }), [], JSON.stringify(query));
      t.false((await store.locate(query)).includes('gone'), JSON.stringify(query));
    }
    t.deepEqual(await store.locate({}), ['stays']);
    // The UID may be created again, as a new object.
    await createAll(store, [makeObject('gone')]);
    t.deepEqual(await store.locate({}), ['stays', 'gone']);
  });

  test(`${label}: locate by each filter alone and combined`, async (t) => {
    const store = await openStore(t);
    await createAll(store, [
      makeObject('a1', { names: ['alpha'], algorithm: 'AES', length: 128, groups: ['red'] }),
      makeObject('a2', {
        names: ['alpha'],
        objectType: 'SecretData',
        state: 'Active',
        custom: [['x-env', 'prod']],
      }),
      makeObject('a3', {
        names: ['beta'],
        algorithm: 'AES',
        length: 256,
        groups: ['red', 'blue'],
        custom: [
          ['x-env', 'prod'],
          ['x-team', 'ops'],
        ],
      }),
      makeObject('a4', {
        names: ['gamma', 'alpha'],
        algorithm: 'RSA',
        length: 2048,
        objectType: 'PrivateKey',
      }),
      makeObject('a5', { algorithm: 'AES', length: 256, state: 'Active', custom: [['x-team', 'ops']] }),
    ]);
    const cases: [LocateQuery, string[]][] = [
      [{}, ['a1', 'a2', 'a3', 'a4', 'a5']],
      [{ name: 'alpha' }, ['a1', 'a2', 'a4']],
      [{ name: 'gamma' }, ['a4']],
      [{ name: 'nobody' }, []],
      [{ objectType: 'SymmetricKey' }, ['a1', 'a3', 'a5']],
      [{ state: 'Active' }, ['a2', 'a5']],
      [{ algorithm: 'AES' }, ['a1', 'a3', 'a5']],
      [{ length: 256 }, ['a3', 'a5']],
      [{ group: 'red' }, ['a1', 'a3']],
      [{ group: 'blue' }, ['a3']],
      [{ custom: [['x-env', 'prod']] }, ['a2', 'a3']],
      [{ custom: [['x-env', 'dev']] }, []],
      [{ name: 'alpha', objectType: 'SymmetricKey' }, ['a1']],
      [{ name: 'alpha', objectType: 'PrivateKey' }, ['a4']],
      [{ algorithm: 'AES', length: 256 }, ['a3', 'a5']],
      [{ algorithm: 'AES', length: 128 }, ['a1']],
      [{ algorithm: 'RSA', length: 256 }, []],
      [
        {
          custom: [
            ['x-env', 'prod'],
            ['x-team', 'ops'],
          ],
        },
        ['a3'],
      ],
      [{ custom: [['x-team', 'ops']], state: 'Active' }, ['a5']],
      [
        { group: 'red', algorithm: 'AES', length: 256, objectType: 'SymmetricKey', state: 'PreActive' },
        ['a3'],
      ],
      // A custom pair's name and value do not run together: ("x-e", "nvprod") is not ("x-env", "prod").
      [{ custom: [['x-envp', 'rod']] }, []],
    ];
    for (const [query, expected] of cases) {
      t.deepEqual(await store.locate(query), expected, JSON.stringify(query));
      t.deepEqual(
        await store.locate({ ...query, owners: ['alice'] }),
        expected,
        `alice ${JSON.stringify(query)}`,
      );
      t.deepEqual(await store.locate({ ...query, owners: ['bob'] }), [], `bob ${JSON.stringify(query)}`);
    }
  });

  test(`${label}: owners filter: each owner sees its own, undefined sees all, [] sees none`, async (t) => {
    const store = await openStore(t);
    await createAll(store, [
      makeObject('a1', { owner: 'alice', names: ['shared'] }),
      makeObject('b1', { owner: 'bob', names: ['shared'] }),
      makeObject('a2', { owner: 'alice', algorithm: 'AES' }),
      makeObject('b2', { owner: 'bob', names: ['shared'], algorithm: 'AES' }),
      makeObject('c1', { owner: 'carol' }),
    ]);
    t.deepEqual(await store.locate({ owners: ['alice'] }), ['a1', 'a2']);
    t.deepEqual(await store.locate({ owners: ['bob'] }), ['b1', 'b2']);
    t.deepEqual(await store.locate({ owners: ['alice'], name: 'shared' }), ['a1']);
    t.deepEqual(await store.locate({ owners: ['bob'], name: 'shared' }), ['b1', 'b2']);
    t.deepEqual(await store.locate({ name: 'shared' }), ['a1', 'b1', 'b2']);
    t.deepEqual(await store.locate({}), ['a1', 'b1', 'a2', 'b2', 'c1']);
    // Several owners: their objects merged in creation order; a repeated owner counts once.
    t.deepEqual(await store.locate({ owners: ['bob', 'alice', 'bob'] }), ['a1', 'b1', 'a2', 'b2']);
    t.deepEqual(await store.locate({ owners: ['bob', 'alice'], newestFirst: true }), [
      'b2',
      'a2',
      'b1',
      'a1',
    ]);
    t.deepEqual(await store.locate({ owners: ['bob', 'alice'], algorithm: 'AES' }), ['a2', 'b2']);
    t.deepEqual(await store.locate({ owners: ['bob', 'alice'], algorithm: 'AES', name: 'shared' }), ['b2']);
    t.deepEqual(await store.locate({ owners: [] }), []);
    t.deepEqual(await store.locate({ owners: [], name: 'shared' }), []);
    t.deepEqual(await store.locate({ owners: ['nobody'] }), []);
    // An owner whose name is a prefix of another's sees only its own.
    await createAll(store, [makeObject('al', { owner: 'al' })]);
    t.deepEqual(await store.locate({ owners: ['al'] }), ['al']);
  });

  test(`${label}: offset and limit page over 25 objects in creation order`, async (t) => {
    const store = await openStore(t);
    // UIDs that do not sort the way they were created: order must come from creation, not from the UID.
    const uids = Array.from({ length: 25 }, (_, i) => `${String.fromCharCode(122 - i)}-${i}`);
    await createAll(
      store,
      uids.map((uid, i) => makeObject(uid, { names: ['page'], state: i % 2 === 0 ? 'Active' : 'PreActive' })),
    );
    const active = uids.filter((_, i) => i % 2 === 0);
    for (const query of [{}, { name: 'page' }, { owners: ['alice'] }, { owners: ['alice'], name: 'page' }]) {
      const what = JSON.stringify(query);
      t.deepEqual(await store.locate(query), uids, what);
      t.deepEqual(await store.locate({ ...query, limit: 10 }), uids.slice(0, 10), what);
      t.deepEqual(await store.locate({ ...query, offset: 10, limit: 10 }), uids.slice(10, 20), what);
      t.deepEqual(await store.locate({ ...query, offset: 20, limit: 10 }), uids.slice(20), what);
      t.deepEqual(await store.locate({ ...query, offset: 25 }), [], what);
      t.deepEqual(await store.locate({ ...query, offset: 24 }), uids.slice(24), what);
      t.deepEqual(await store.locate({ ...query, limit: 0 }), [], what);
      // Paging counts matches, not index entries: the state filter is checked on the records.
      t.deepEqual(
        await store.locate({ ...query, state: 'Active', offset: 3, limit: 4 }),
        active.slice(3, 7),
        what,
      );
      t.deepEqual(await store.locate({ ...query, state: 'Active', offset: 12 }), active.slice(12), what);
      // Newest first (KMIP 2.0 §6.1.28): the same pages counted from the newest object.
      const newest = [...uids].reverse();
      const newestActive = [...active].reverse();
      t.deepEqual(await store.locate({ ...query, newestFirst: true }), newest, what);
      t.deepEqual(await store.locate({ ...query, newestFirst: true, limit: 10 }), newest.slice(0, 10), what);
      t.deepEqual(
        await store.locate({ ...query, newestFirst: true, offset: 20, limit: 10 }),
        newest.slice(20),
        what,
      );
      t.deepEqual(
        await store.locate({ ...query, newestFirst: true, state: 'Active', offset: 3, limit: 4 }),
        newestActive.slice(3, 7),
        what,
      );
    }
  });

  test(`${label}: locate agrees with a plain filter over every object (property)`, async (t) => {
    const owners = ['alice', 'bob', 'carol'];
    const pick = <T>(values: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...values);
    const specArb = fc.record({
      owner: pick(owners),
      objectType: pick(['SymmetricKey', 'SecretData']),
      state: pick(['PreActive', 'Active']),
      names: fc.uniqueArray(pick(['n1', 'n2', 'n3']), { maxLength: 2 }),
      algorithm: fc.option(pick(['AES', 'RSA']), { nil: undefined }),
      length: fc.option(pick([128, 256]), { nil: undefined }),
      groups: fc.uniqueArray(pick(['g1', 'g2']), { maxLength: 2 }),
      custom: fc.uniqueArray(fc.tuple(pick(['x-a', 'x-b']), pick(['1', '2'])), {
        maxLength: 2,
        selector: ([name]) => name,
      }),
    });
    const filterArb = fc.record({
      objectType: pick(['SymmetricKey', 'SecretData']),
      state: pick(['PreActive', 'Active']),
      name: pick(['n1', 'n2', 'n3']),
      algorithm: pick(['AES', 'RSA']),
      length: pick([128, 256]),
      group: pick(['g1', 'g2']),
      custom: fc.uniqueArray(fc.tuple(pick(['x-a', 'x-b']), pick(['1', '2'])), {
        minLength: 1,
        maxLength: 2,
        selector: ([name]) => name,
      }),
    });
    type Filters = typeof filterArb extends fc.Arbitrary<infer F> ? F : never;
    // At most three filters, so that queries often match something and the chosen index is rarely the only check.
    const queryArb: fc.Arbitrary<LocateQuery> = fc
      .tuple(
        filterArb,
        fc.subarray(['objectType', 'state', 'name', 'algorithm', 'length', 'group', 'custom'] as const, {
          maxLength: 3,
        }),
        fc.option(fc.uniqueArray(pick(owners), { maxLength: 3 }), { nil: undefined }),
        fc.option(fc.nat(4), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        fc.boolean(),
      )
      .map(([filters, keys, queryOwners, offset, limit, newestFirst]) => {
        const chosen: Partial<Record<keyof Filters, unknown>> = {};
        for (const key of keys) chosen[key] = filters[key];
        return {
          ...(chosen as Partial<Filters>),
          ...(queryOwners !== undefined && { owners: queryOwners }),
          ...(offset !== undefined && { offset }),
          ...(limit !== undefined && { limit }),
          ...(newestFirst && { newestFirst }),
        };
      });
    const oracle = (objects: readonly StoredObject[], q: LocateQuery): string[] =>
      (q.newestFirst === true ? [...objects].reverse() : objects)
        .filter(
          (o) =>
            (q.owners === undefined || q.owners.includes(o.owner)) &&
            (q.objectType === undefined || o.objectType === q.objectType) &&
            (q.state === undefined || o.state === q.state) &&
            (q.name === undefined || o.index.names.includes(q.name)) &&
            (q.algorithm === undefined || o.index.algorithm === q.algorithm) &&
            (q.length === undefined || o.index.length === q.length) &&
            (q.group === undefined || o.index.groups.includes(q.group)) &&
            (q.custom ?? []).every(([n, v]) => o.index.custom.some(([on, ov]) => on === n && ov === v)),
        )
        .map((o) => o.uid)
        .slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? Infinity));

    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 25 }),
        fc.array(queryArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (specs, queries, deletions) => {
          const store = await LevelObjectStore.open(await openDatabase(t));
          try {
            let objects = specs.map((spec, i) => makeObject(`o${i}`, spec));
            await createAll(store, objects);
            for (const d of deletions) {
              const victim = objects[d % objects.length];
              if (victim === undefined) continue;
              await store.commit({ delete: [{ uid: victim.uid, expectedRevision: 1 }] });
              objects = objects.filter((o) => o !== victim);
            }
            for (const query of queries) {
              const got = await store.locate(query);
              if (JSON.stringify(got) !== JSON.stringify(oracle(objects, query))) {
                t.deepEqual(got, oracle(objects, query), JSON.stringify(query));
                return false;
              }
            }
            return true;
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    t.pass();
  });

  test(`${label}: 50 concurrent commits to distinct UIDs all land`, async (t) => {
    const store = await openStore(t);
    const objects = Array.from({ length: 50 }, (_, i) => makeObject(`c${i}`, { names: ['burst'] }));
    await Promise.all(objects.map((object) => store.commit({ put: [{ object, expectedRevision: 0 }] })));
    const found = await store.locate({ name: 'burst' });
    t.is(found.length, 50);
    // The same UIDs, in whatever order concurrent commits gave them (ava's deepEqual compares a Set's order too).
    t.deepEqual([...found].sort(), objects.map((o) => o.uid).sort());
    for (const object of objects) t.deepEqual(await store.get(object.uid), object);
    t.is(store.lockedKeys, 0);
  });

  test(`${label}: 20 concurrent updates of one UID from the same revision: one wins`, async (t) => {
    const store = await openStore(t);
    const v1 = makeObject('hot', { names: ['v1'] });
    await createAll(store, [v1]);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.commit({ put: [{ object: next(v1, { names: [`writer-${i}`] }), expectedRevision: 1 }] }),
      ),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    t.is(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') {
        t.true(r.reason instanceof StoreError && r.reason.code === 'conflict', String(r.reason));
      }
    }
    const stored = await store.get('hot');
    t.is(stored?.revision, 2);
    t.deepEqual(stored?.index.names, [`writer-${won[0] ?? -1}`]);
    // Exactly the winner's name is indexed; the losers left nothing behind.
    const named = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.locate({ name: `writer-${i}` })),
    );
    t.deepEqual(
      named.flatMap((uids, i) => (uids.length > 0 ? [i] : [])),
      won,
    );
    t.deepEqual(await store.locate({ name: 'v1' }), []);
    t.is(store.lockedKeys, 0);
  });

  test(`${label}: a change over several UIDs waits only for the UIDs it shares`, async (t) => {
    const store = await openStore(t);
    await createAll(store, [makeObject('p'), makeObject('q')]);
    const p = await store.get('p');
    const q = await store.get('q');
    if (p === undefined || q === undefined) return t.fail();
    // Two changes over {p, q} in opposite orders and a third over q alone: no deadlock, exactly one of each
    // conflicting pair wins.
    const results = await Promise.allSettled([
      store.commit({
        put: [
          { object: next(p, { state: 'Active' }), expectedRevision: 1 },
          { object: next(q, { state: 'Active' }), expectedRevision: 1 },
        ],
      }),
      store.commit({
        put: [
          { object: next(q, { state: 'Deactivated' }), expectedRevision: 1 },
          { object: next(p, { state: 'Deactivated' }), expectedRevision: 1 },
        ],
      }),
      store.commit({ put: [{ object: makeObject('r'), expectedRevision: 0 }] }),
    ]);
    t.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    t.is((await store.get('p'))?.state, 'Active');
    t.is((await store.get('q'))?.state, 'Active');
    t.is(store.lockedKeys, 0);
  });

  test(`${label}: KEK records: get, put with the expected-record check, list`, async (t) => {
    const store = await openStore(t);
    t.is(await store.getKek('alice'), undefined);
    await store.putKek('alice', bytes(1, 2, 3), undefined);
    t.deepEqual(await store.getKek('alice'), bytes(1, 2, 3));
    // There is one now: "expected none" conflicts.
    await storeError(t, store.putKek('alice', bytes(9), undefined), 'conflict', 'alice');
    // A stale expected record conflicts; the current one is accepted.
    await storeError(t, store.putKek('alice', bytes(9), bytes(1, 2)), 'conflict', 'alice');
    await store.putKek('alice', bytes(4, 5), bytes(1, 2, 3));
    t.deepEqual(await store.getKek('alice'), bytes(4, 5));
    // Expecting a record for an owner that has none conflicts.
    await storeError(t, store.putKek('bob', bytes(7), bytes(7)), 'conflict', 'bob');
    await store.putKek('bob', allBytes(), undefined);
    await store.putKek('ålice', bytes(), undefined);
    const listed: [string, Uint8Array][] = [];
    for await (const [owner, record] of store.listKeks()) listed.push([owner, record]);
    t.deepEqual(listed, [
      ['alice', bytes(4, 5)],
      ['bob', allBytes()],
      ['ålice', bytes()],
    ]);
    // Concurrent first KEKs for one owner: one wins.
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.putKek('dave', bytes(i), undefined)),
    );
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    // KEKs are not objects: locate and get do not see them.
    t.deepEqual(await store.locate({}), []);
    t.is(await store.get('alice'), undefined);
  });

  test(`${label}: commits made at once are written together, and each lands whole or not at all`, async (t) => {
    const { db, counts, failWrites } = instrument(await openDatabase(t));
    const store = await LevelObjectStore.open(db);
    t.teardown(() => store.close());
    const before = counts.batches;
    const uids = Array.from({ length: 30 }, (_, i) => `g${String(i).padStart(2, '0')}`);
    await Promise.all(
      uids.map((uid) =>
        store.commit({ put: [{ object: makeObject(uid, { names: [uid] }), expectedRevision: 0 }] }),
      ),
    );
    t.log(`30 commits, ${counts.batches - before} writes`);
    t.true(counts.batches - before < uids.length, 'commits queued while a write was out went in one write');
    // Every record and every index entry landed, in the order the commits were made.
    t.deepEqual(await store.locate({}), uids);
    for (const uid of uids) t.deepEqual(await store.locate({ name: uid }), [uid]);

    // A failed write fails every commit in it, and none of them is left half written.
    failWrites.on = true;
    const failed = await Promise.allSettled(
      ['f1', 'f2', 'f3'].map((uid) =>
        store.commit({ put: [{ object: makeObject(uid, { names: [uid] }), expectedRevision: 0 }] }),
      ),
    );
    failWrites.on = false;
    t.deepEqual(
      failed.map((r) =>
        r.status === 'rejected' && r.reason instanceof StoreError ? r.reason.code : r.status,
      ),
      ['io', 'io', 'io'],
    );
    for (const uid of ['f1', 'f2', 'f3']) {
      t.is(await store.get(uid), undefined);
      t.deepEqual(await store.locate({ name: uid }), []);
    }
    // The next commits are written as if nothing had happened, after the others.
    await store.commit({ put: [{ object: makeObject('after'), expectedRevision: 0 }] });
    t.deepEqual((await store.locate({})).slice(-1), ['after']);

    // A commit queued behind a write that fails goes out in the next write, which lands.
    failWrites.next = 1;
    const [first, queued] = await Promise.allSettled(
      ['q1', 'q2'].map((uid) => store.commit({ put: [{ object: makeObject(uid), expectedRevision: 0 }] })),
    );
    t.is(first?.status, 'rejected');
    t.is(queued?.status, 'fulfilled');
    t.is(await store.get('q1'), undefined);
    t.is((await store.get('q2'))?.uid, 'q2');
  });

  test(`${label}: corrupt bytes give StoreError corrupt naming the key`, async (t) => {
    const { db } = instrument(await openDatabase(t));
    const store = await LevelObjectStore.open(db);
    t.teardown(() => store.close());
    await createAll(store, [
      makeObject('good', { names: ['n'] }),
      makeObject('bad', { names: ['n'], state: 'Active' }),
    ]);
    await store.putKek('alice', bytes(1), undefined);

    await db.batch([
      { type: 'put', key: raw('obad'), value: bytes(1, 0xff) },
      { type: 'put', key: raw('kalice'), value: bytes(7, 1) },
    ]);
    await storeError(t, store.get('bad'), 'corrupt', 'obad');
    await storeError(t, store.getKek('alice'), 'corrupt', 'kalice', 'format 7');
    const listing = (async () => {
      for await (const entry of store.listKeks()) t.truthy(entry);
    })();
    await storeError(t, listing, 'corrupt', 'kalice');
    // Locate reads the record only when a filter needs it: the name alone is answered from the index...
    t.deepEqual(await store.locate({ name: 'n' }), ['good', 'bad']);
    // ...a second filter reads it, and says which key is bad.
    await storeError(t, store.locate({ name: 'n', state: 'Active' }), 'corrupt', 'obad');
    // Writing over a corrupt record refuses, naming it, rather than guessing its revision or index entries.
    await storeError(t, store.commit({ delete: [{ uid: 'bad', expectedRevision: 1 }] }), 'corrupt', 'obad');

    // Every kind of damage to a record is 'corrupt', never another error: truncations and trailing bytes.
    const good = await store.get('good');
    if (good === undefined) return t.fail();
    await createAll(store, [
      makeObject('victim', { material: bytes(1, 2), custom: [['x', 'y']], names: ['v'] }),
    ]);
    const [record] = await db.getMany([raw('ovictim')]);
    if (record === undefined) return t.fail();
    const damaged = [
      ...Array.from({ length: record.length }, (_, n) => record.subarray(0, n)),
      Uint8Array.from([...record, 0]),
    ];
    for (const value of damaged) {
      await db.batch([{ type: 'put', key: raw('ovictim'), value }]);
      await storeError(t, store.get('victim'), 'corrupt', 'ovictim');
    }
    // A damaged index entry is corrupt too, naming the index key.
    await db.batch([
      {
        type: 'put',
        key: Buffer.concat([raw('an'), raw('v'), bytes(0xff), bytes(0, 0, 0, 0, 0, 0, 0, 9)]),
        value: bytes(1, 200),
      },
    ]);
    await storeError(t, store.locate({ name: 'v' }), 'corrupt', 'anv\\xff');
  });

  test(`${label}: a closed store refuses every call with StoreError closed`, async (t) => {
    const store = await LevelObjectStore.open(await openDatabase(t));
    await createAll(store, [makeObject('x')]);
    await store.close();
    await store.close();
    await storeError(t, store.get('x'), 'closed');
    await storeError(t, store.commit({ put: [{ object: makeObject('y'), expectedRevision: 0 }] }), 'closed');
    await storeError(t, store.locate({}), 'closed');
    await storeError(t, store.getKek('a'), 'closed');
    await storeError(t, store.putKek('a', bytes(1), undefined), 'closed');
    const listing = (async () => {
      for await (const entry of store.listKeks()) t.truthy(entry);
    })();
    await storeError(t, listing, 'closed');
  });

  test(`${label}: a failing database gives StoreError io with the cause, and the store stays usable`, async (t) => {
    const { db, failWrites } = instrument(await openDatabase(t));
    const store = await LevelObjectStore.open(db);
    t.teardown(() => store.close());
    failWrites.on = true;
    const error = await storeError(
      t,
      store.commit({ put: [{ object: makeObject('x'), expectedRevision: 0 }] }),
      'io',
      'simulated disk failure',
    );
    t.true(error.cause instanceof Error);
    t.is(store.lockedKeys, 0);
    failWrites.on = false;
    await store.commit({ put: [{ object: makeObject('x'), expectedRevision: 0 }] });
    t.deepEqual(await store.locate({}), ['x']);
  });

  test(`${label}: a newer schema version, or data without one, is refused at open`, async (t) => {
    const future = await openDatabase(t);
    await future.batch([{ type: 'put', key: raw('mschema'), value: raw('7') }]);
    await storeError(
      t,
      LevelObjectStore.open(future),
      'corrupt',
      'schema version 7',
      'the 1 this server reads',
    );

    const foreign = await openDatabase(t);
    await foreign.batch([{ type: 'put', key: raw('something'), value: raw('else') }]);
    await storeError(t, LevelObjectStore.open(foreign), 'corrupt', 'schema', 'something');

    const garbled = await openDatabase(t);
    await garbled.batch([{ type: 'put', key: raw('mschema'), value: raw('one') }]);
    await storeError(t, LevelObjectStore.open(garbled), 'corrupt', 'mschema');
  });

  test(`${label}: locating one name among 2,000 objects reads a handful of entries, not 2,000`, async (t) => {
    const { db, counts } = instrument(await openDatabase(t));
    const store = await LevelObjectStore.open(db);
    t.teardown(() => store.close());
    const owners = ['alice', 'bob'];
    const objects = Array.from({ length: 2000 }, (_, i) =>
      makeObject(`obj-${i}`, {
        owner: owners[i % 2] ?? 'alice',
        names: [`name-${i}`],
        algorithm: 'AES',
        length: 256,
        state: 'Active',
      }),
    );
    // Load in parallel slices: order within a slice does not matter here.
    for (let i = 0; i < objects.length; i += 100) {
      await Promise.all(
        objects.slice(i, i + 100).map((object) => store.commit({ put: [{ object, expectedRevision: 0 }] })),
      );
    }
    const reads = async (query: LocateQuery): Promise<[string[], number]> => {
      counts.entries = 0;
      counts.gets = 0;
      const found = await store.locate(query);
      return [found, counts.entries + counts.gets];
    };
    for (const query of [
      { name: 'name-1234' },
      { name: 'name-1234', owners: ['alice'] },
      { name: 'name-1234', owners: ['alice', 'bob'] },
      { name: 'name-1234', algorithm: 'AES', length: 256, state: 'Active' },
      { name: 'name-1234', owners: ['bob', 'alice'], objectType: 'SymmetricKey' },
    ]) {
      const [found, n] = await reads(query);
      t.deepEqual(found, ['obj-1234'], JSON.stringify(query));
      t.true(n < 10, `${JSON.stringify(query)} read ${n} entries`);
    }
    const [none, n] = await reads({ name: 'name-1235', owners: ['alice'] });
    t.deepEqual(none, []);
    t.true(n < 10, `read ${n}`);
    // The first page of a broad query stops early too.
    const [page, m] = await reads({ algorithm: 'AES', limit: 5 });
    t.is(page.length, 5);
    t.true(m < 10, `first page read ${m}`);
  });
}
