/**
 * fromStored (src/kmip-ops/managed-object.ts) keeps the objects it parsed: a kept object must be served only for a
 * record equal to the one it came from, must not change when the caller zeroes its copy of the record, and must
 * refuse changes in place (every request then shares it).
 */
import test from 'ava';
import { ttlv } from '../../src/ttlv/types.js';
import { tag } from '../../src/kmip/vocabulary.js';
import type { Attribute } from '../../src/kmip/attributes.js';
import {
  fromStored,
  ObjectType,
  State,
  toStored,
  type ManagedObject,
} from '../../src/kmip-ops/managed-object.js';

let next = 0;

function object(name: string, blob: number[] = [1, 2, 3]): ManagedObject {
  next += 1;
  const attributes: Attribute[] = [
    { kind: 'standard', value: ttlv.enumeration(tag('ObjectType'), ObjectType.SymmetricKey) },
    { kind: 'standard', value: ttlv.enumeration(tag('State'), State.PreActive) },
    { kind: 'custom', name: 'x-label', value: ttlv.textString(tag('AttributeValue'), name) },
  ];
  return {
    uid: `parsed-${String(next)}`,
    revision: 1,
    owner: 'alice',
    attributes,
    material: { kind: 'sealed-key', sealed: { kekId: 'k1', format: 'raw', blob: Uint8Array.from(blob) } },
  };
}

const label = (parsed: ManagedObject): unknown =>
  parsed.attributes.find((a) => a.kind === 'custom' && a.name === 'x-label')?.value.value;

const blobOf = (parsed: ManagedObject): number[] =>
  parsed.material?.kind === 'sealed-key' ? [...parsed.material.sealed.blob] : [];

test('the same record parses to the same kept object, with the stored values', (t) => {
  const stored = toStored(object('first'), 1);
  const a = fromStored(stored);
  const b = fromStored({ ...stored, attributes: stored.attributes.slice() });
  t.is(a, b);
  t.is(label(a), 'first');
  t.deepEqual(blobOf(a), [1, 2, 3]);
});

test('a record with the same UID and revision but other bytes is parsed again, not served from what was kept', (t) => {
  const original = object('before', [1, 2, 3]);
  const first = fromStored(toStored(original, 1));
  // Same UID, revision and owner; only the attribute bytes differ, then only the material bytes.
  const renamed = fromStored(toStored({ ...original, ...object('after', [1, 2, 3]), uid: original.uid }, 1));
  t.not(renamed, first);
  t.is(label(renamed), 'after');
  const rekeyed = fromStored(toStored({ ...original, ...object('after', [9, 9, 9]), uid: original.uid }, 1));
  t.deepEqual(blobOf(rekeyed), [9, 9, 9]);
  // And another owner of equal bytes is another record too.
  const moved = fromStored({ ...toStored(original, 1), owner: 'bob' });
  t.is(moved.owner, 'bob');
});

test("zeroing the caller's record after parsing leaves the kept object and its check intact", (t) => {
  const stored = toStored(object('kept'), 1);
  const parsed = fromStored(stored);
  stored.attributes.fill(0);
  stored.material?.fill(0);
  t.is(label(parsed), 'kept');
  const again = toStored(object('kept'), 1);
  t.is(fromStored({ ...again, uid: parsed.uid }), parsed);
});

test('a kept object refuses changes in place', (t) => {
  const parsed = fromStored(toStored(object('frozen'), 1));
  const extra: Attribute = { kind: 'custom', name: 'x-extra', value: ttlv.integer(tag('AttributeValue'), 1) };
  t.throws(() => {
    (parsed.attributes as Attribute[]).push(extra);
  });
  t.throws(() => {
    (parsed as { revision: number }).revision = 2;
  });
  const first = parsed.attributes[0];
  t.throws(() => {
    (first as { kind: string }).kind = 'custom';
  });
});
