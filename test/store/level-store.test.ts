/**
 * The ObjectStore contract over classic-level (LevelDB) in temporary directories, plus what only a disk store has:
 * everything survives close and reopen, creation order continues across a reopen, and the directory lock refuses a
 * second store on the same directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Level } from 'level';
import { openLevelStore } from '../../src/store/level-store.js';
import { createAll, makeObject, storeContract, storeError } from './contract.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

storeContract('classic-level', async (t) => {
  const db = new Level<Uint8Array, Uint8Array>(join(await tempDir(t), 'db'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  // Registered after tempDir's teardown, so it runs first (ava runs teardowns last-in, first-out).
  t.teardown(() => db.close());
  return db;
});

test('classic-level: everything is there after close and reopen', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const first = await openLevelStore(dir);
  const secret = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
  const objects = [
    makeObject('a', {
      names: ['one'],
      algorithm: 'AES',
      length: 256,
      material: secret,
      custom: [['x-k', 'v']],
    }),
    makeObject('b', { owner: 'bob', groups: ['g'] }),
    makeObject('c', { names: ['three'] }),
  ];
  await createAll(first, objects);
  await first.commit({ delete: [{ uid: 'c', expectedRevision: 1 }] });
  await first.putKek('alice', new Uint8Array([1, 2, 3]), undefined);
  await first.close();

  const second = await openLevelStore(dir);
  t.teardown(() => second.close());
  t.deepEqual(await second.get('a'), objects[0]);
  t.deepEqual(await second.get('b'), objects[1]);
  t.is(await second.get('c'), undefined);
  t.deepEqual(await second.getKek('alice'), new Uint8Array([1, 2, 3]));
  t.deepEqual(await second.locate({ name: 'one' }), ['a']);
  t.deepEqual(await second.locate({ custom: [['x-k', 'v']], owners: ['alice'] }), ['a']);
  t.deepEqual(await second.locate({ owners: ['bob'], group: 'g' }), ['b']);
  t.deepEqual(await second.locate({ name: 'three' }), []);
  // Creation order continues after the reopen, even though the newest object ('c') was deleted.
  await createAll(second, [makeObject('0-new')]);
  t.deepEqual(await second.locate({}), ['a', 'b', '0-new']);
});

test('classic-level: a future schema written to disk is refused at reopen, naming both versions', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const store = await openLevelStore(dir);
  await createAll(store, [makeObject('a')]);
  await store.close();
  const db = new Level<string, string>(dir);
  await db.put('mschema', '2');
  await db.close();
  await storeError(t, openLevelStore(dir), 'corrupt', 'schema version 2', 'the 1 this server reads');
  // The refusal released the directory lock: the database can be opened again (and fixed by an operator).
  const again = new Level<string, string>(dir);
  t.is(await again.get('mschema'), '2');
  await again.close();
});

test('classic-level: a second store on an open directory is refused as io', async (t) => {
  const dir = join(await tempDir(t), 'db');
  const store = await openLevelStore(dir);
  t.teardown(() => store.close());
  const error = await storeError(t, openLevelStore(dir), 'io');
  t.truthy(error.cause);
});
