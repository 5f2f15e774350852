/**
 * UndoJournal (src/kmip-ops/undo.ts) on a real store in memory: undo() puts back what the batch changed, deletes
 * what it created and restores what it deleted, in one commit; and when another request changed an object after the
 * batch did, it changes nothing and says which object.
 */
import test from 'ava';
import { UndoConflict, UndoJournal } from '../../src/kmip-ops/undo.js';
import { openMemoryStore } from '../../src/store/level-store.js';
import type { StoredObject } from '../../src/store/store.js';
import { createAll, makeObject } from '../store/contract.js';

const changed = (object: StoredObject, state: string, name: string): StoredObject =>
  makeObject(object.uid, { state, names: [name], revision: object.revision + 1 });

async function stored(
  store: { get(uid: string): Promise<StoredObject | undefined> },
  uid: string,
): Promise<StoredObject> {
  const object = await store.get(uid);
  if (!object) throw new Error(`${uid} is not stored`);
  return object;
}

test('undo restores changed objects, deletes created ones and brings back deleted ones', async (t) => {
  const store = await openMemoryStore();
  await createAll(store, [
    makeObject('kept', { names: ['before'] }),
    makeObject('removed', { names: ['r'] }),
  ]);
  const journal = new UndoJournal(store);
  const kept = await stored(store, 'kept');
  // Two changes of one object in the batch: the first record is the one to restore.
  const once = changed(kept, 'Active', 'after-1');
  await journal.commit({ put: [{ object: once, expectedRevision: kept.revision }] });
  await journal.commit({
    put: [{ object: changed(once, 'Deactivated', 'after-2'), expectedRevision: once.revision }],
  });
  await journal.commit({ put: [{ object: makeObject('created', { names: ['new'] }), expectedRevision: 0 }] });
  await journal.commit({ delete: [{ uid: 'removed', expectedRevision: 1 }] });

  await journal.undo();
  const restored = await stored(store, 'kept');
  t.is(restored.state, 'PreActive');
  t.deepEqual(restored.index.names, ['before']);
  t.is(await store.get('created'), undefined);
  t.deepEqual((await stored(store, 'removed')).index.names, ['r']);
  // The indexes follow the records: Locate finds the restored names, not the undone ones.
  t.deepEqual(await store.locate({ name: 'before' }), ['kept']);
  t.deepEqual(await store.locate({ name: 'after-2' }), []);
  t.deepEqual(await store.locate({ name: 'new' }), []);
  t.deepEqual(await store.locate({ name: 'r' }), ['removed']);
  await store.close();
});

test('undo changes nothing when another request changed an object after the batch', async (t) => {
  const store = await openMemoryStore();
  await createAll(store, [makeObject('a', { names: ['a0'] }), makeObject('b', { names: ['b0'] })]);
  const journal = new UndoJournal(store);
  const a = await stored(store, 'a');
  const b = await stored(store, 'b');
  await journal.commit({ put: [{ object: changed(a, 'Active', 'a1'), expectedRevision: a.revision }] });
  await journal.commit({ put: [{ object: changed(b, 'Active', 'b1'), expectedRevision: b.revision }] });
  // Another request, straight to the store, after the batch's change of b.
  const bNow = await stored(store, 'b');
  await store.commit({
    put: [{ object: changed(bNow, 'Compromised', 'b2'), expectedRevision: bNow.revision }],
  });

  const error = await t.throwsAsync(journal.undo(), { instanceOf: UndoConflict });
  t.regex(error.message, /object b was changed by another request/);
  t.deepEqual((await stored(store, 'a')).index.names, ['a1'], 'a is not restored alone: all or nothing');
  t.deepEqual((await stored(store, 'b')).index.names, ['b2'], "the other request's change stands");
  await store.close();
});

test('a commit the store refuses is not journaled', async (t) => {
  const store = await openMemoryStore();
  await createAll(store, [makeObject('x', { names: ['x0'] })]);
  const journal = new UndoJournal(store);
  const x = await stored(store, 'x');
  await t.throwsAsync(journal.commit({ put: [{ object: changed(x, 'Active', 'x1'), expectedRevision: 7 }] }));
  await journal.undo();
  t.deepEqual((await stored(store, 'x')).index.names, ['x0']);
  t.is((await stored(store, 'x')).revision, x.revision, 'nothing was written by the undo');
  await store.close();
});
