/** The store's record cache never serves a record older than the stored one. */
import test from 'ava';
import { openMemoryStore } from '../../src/store/level-store.js';
import type { StoredObject } from '../../src/store/store.js';

const object = (revision: number, state: string): StoredObject => ({
  uid: 'u1',
  revision,
  owner: 'alice',
  objectType: 'SymmetricKey',
  state,
  index: { names: ['n'], groups: [], custom: [] },
  attributes: Uint8Array.of(revision),
});

test('a cached record is replaced by the next commit, and a get racing a commit caches nothing stale', async (t) => {
  const store = await openMemoryStore();
  t.teardown(() => store.close());
  await store.commit({ put: [{ object: object(1, 'PreActive'), expectedRevision: 0 }] });
  t.is((await store.get('u1'))?.state, 'PreActive');
  t.is((await store.get('u1'))?.state, 'PreActive', 'served from the cache');
  await store.commit({ put: [{ object: object(2, 'Active'), expectedRevision: 1 }] });
  t.is((await store.get('u1'))?.revision, 2, 'the commit dropped the cached record');
  // A read in flight while a commit lands must not put its (older) record in the cache.
  const racing = store.get('u1');
  await store.commit({ put: [{ object: object(3, 'Deactivated'), expectedRevision: 2 }] });
  await racing;
  t.is((await store.get('u1'))?.state, 'Deactivated');
  const copy = await store.get('u1');
  copy?.attributes.fill(0);
  t.deepEqual((await store.get('u1'))?.attributes, Uint8Array.of(3), 'callers get copies');
  await store.commit({ delete: [{ uid: 'u1', expectedRevision: 3 }] });
  t.is(await store.get('u1'), undefined, 'a delete drops the cached record');
});
