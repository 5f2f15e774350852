/** The ObjectStore contract over memory-level, plus the in-memory factory other layers' tests use. */
import test from 'ava';
import { MemoryLevel } from 'memory-level';
import { openMemoryStore } from '../../src/store/level-store.js';
import { makeObject, storeContract } from './contract.js';

storeContract('memory-level', async () => {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  return db;
});

test('openMemoryStore gives an empty working store', async (t) => {
  const store = await openMemoryStore();
  t.deepEqual(await store.locate({}), []);
  const object = makeObject('m1', { names: ['n'] });
  await store.commit({ put: [{ object, expectedRevision: 0 }] });
  t.deepEqual(await store.get('m1'), object);
  await store.close();
});
