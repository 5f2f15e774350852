/**
 * Object store throughput on LevelDB (classic-level) in a temporary directory, with 10k objects: commits (one new
 * object each, awaited one after another, and 16 in flight), updates, gets and Locate by name, against a baseline
 * measured in the same run on a bare database: an awaited put and get of a value of the same size. The ratio says
 * what the store's records, index entries and revision checks cost over LevelDB itself. Asserts nothing.
 *
 * Run: npx tsx bench/store.ts [--objects N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Level } from 'level';
import { openLevelStore } from '../src/store/level-store.js';
import type { StoredObject } from '../src/store/store.js';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '10000' } } });
const count = Number(values.objects);
const owners = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d'];

const uid = (i: number): string => `5b1d2a3c-6f7e-4a8b-9c0d-${i.toString(16).padStart(12, '0')}`;
const ownerOf = (i: number): string => owners[i % owners.length] ?? 'tenant-a';

/** A typical AES key: two names' worth of index values, ~200 bytes of attributes, a 40-byte wrapped key. */
function object(i: number, revision = 1, state = 'PreActive'): StoredObject {
  return {
    uid: uid(i),
    revision,
    owner: ownerOf(i),
    objectType: 'SymmetricKey',
    state,
    index: { names: [`key-${i}`], algorithm: 'AES', length: 256, groups: [], custom: [] },
    attributes: new Uint8Array(200).fill(i & 0xff),
    material: new Uint8Array(40).fill(0xa5),
  };
}

/** Runs n operations one after another (or `inFlight` at a time) and returns operations per second. */
async function rate(n: number, op: (i: number) => Promise<unknown>, inFlight = 1): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next;
      next += 1;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return n / seconds;
}

/** A fixed pseudo-random order (so reads do not walk the keys in insertion order). */
const shuffled = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 7919) % n);

const dir = await mkdtemp(join(tmpdir(), 'kmipd-bench-store-'));
try {
  const rows: [string, number, number | undefined][] = [];

  const bare = new Level<string, Uint8Array>(join(dir, 'bare'), { valueEncoding: 'view' });
  const value = new Uint8Array(330).fill(1);
  const basePut = await rate(count, (i) => bare.put(uid(i), value));
  const order = shuffled(count);
  const baseGet = await rate(count, (i) => bare.get(uid(order[i] ?? 0)));
  await bare.close();
  rows.push(['baseline: bare level put (awaited)', basePut, undefined]);
  rows.push(['baseline: bare level get', baseGet, undefined]);

  const store = await openLevelStore(join(dir, 'store'));
  const create = await rate(count, (i) =>
    store.commit({ put: [{ object: object(i), expectedRevision: 0 }] }),
  );
  rows.push([`commit: create, 1 at a time (${count} objects)`, create, create / basePut]);

  const parallel = await rate(
    count,
    (i) => store.commit({ put: [{ object: object(count + i), expectedRevision: 0 }] }),
    16,
  );
  rows.push([`commit: create, 16 in flight (${count} more)`, parallel, parallel / basePut]);

  const update = await rate(count, (i) =>
    store.commit({ put: [{ object: object(order[i] ?? 0, 2, 'Active'), expectedRevision: 1 }] }),
  );
  rows.push(['commit: update state (index entries moved)', update, update / basePut]);

  const get = await rate(count, (i) => store.get(uid(order[i] ?? 0)));
  rows.push(['get', get, get / baseGet]);

  // Warm-up, not reported: right after 30k writes LevelDB is still compacting, and the first locate run pays for it.
  await rate(count, (i) => store.locate({ name: `key-${order[i] ?? 0}` }));
  const byNameTenant = await rate(count, async (i) => {
    const k = order[i] ?? 0;
    const found = await store.locate({ owners: [ownerOf(k)], name: `key-${k}` });
    if (found.length !== 1) throw new Error(`locate key-${k} found ${found.length}`);
  });
  rows.push(['locate by name, tenant', byNameTenant, byNameTenant / baseGet]);

  const byNameAdmin = await rate(count, (i) => store.locate({ name: `key-${order[i] ?? 0}` }));
  rows.push(['locate by name, all owners', byNameAdmin, byNameAdmin / baseGet]);

  const page = await rate(1000, (i) =>
    store.locate({ owners: [ownerOf(i)], algorithm: 'AES', state: 'Active', offset: i % 100, limit: 50 }),
  );
  rows.push(['locate AES+Active, page of 50, tenant', page, page / baseGet]);
  await store.close();

  process.stdout.write(
    `Object store on classic-level, ${count} objects (${2 * count} after the parallel run), ` +
      `Node ${process.version}, ${cpus().length} cores (this VM has 2; figures vary between runs, compare ratios)\n\n`,
  );
  process.stdout.write(`${'operation'.padEnd(48)}${'ops/s'.padStart(10)}   ratio to bare level\n`);
  for (const [name, opsPerSecond, ratio] of rows) {
    const shown = ratio === undefined ? '' : ratio.toFixed(2);
    process.stdout.write(
      `${name.padEnd(48)}${Math.round(opsPerSecond).toString().padStart(10)}   ${shown}\n`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
