/**
 * The blob layouts of envelope.ts without a token: what unframe() accepts from an unwrap (exact, or padded with up
 * to 7 zero bytes as SoftHSM2 2.6.1 returns it) and what it refuses (non-zero padding, lengths that do not fit).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  decodeKekBlob,
  decodeSecretBlob,
  encodeKekBlob,
  encodeSecretBlob,
  frame,
  gcmAad,
  gcmParts,
  secretHeader,
  unframe,
} from '../../src/hsm/envelope.js';
import { HsmError } from '../../src/hsm/hsm.js';

const unseal = (layout: 'framed' | 'sized' | 'der', length: number, inner: Uint8Array): Uint8Array =>
  unframe(decodeSecretBlob(encodeSecretBlob(layout, length, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))), inner);

const padTo8 = (bytes: Uint8Array): Buffer =>
  Buffer.concat([bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);

test('framed: every length round-trips, padded to a multiple of 8 with the length inside', (t) => {
  for (let size = 0; size <= 40; size += 1) {
    const plaintext = randomBytes(size);
    const inner = frame(plaintext);
    t.is(inner.length % 8, 0);
    t.is(inner.readUInt32BE(0), size);
    t.deepEqual(Buffer.from(unseal('framed', 0, inner)), plaintext);
  }
});

test('sized: exact and zero-padded unwraps both give the key; other lengths are refused', (t) => {
  const key = randomBytes(20);
  t.deepEqual(Buffer.from(unseal('sized', 20, key)), key);
  t.deepEqual(Buffer.from(unseal('sized', 20, padTo8(key))), key);
  t.throws(() => unseal('sized', 40, padTo8(key)), { instanceOf: HsmError, message: /unseal-failed/ });
  t.throws(() => unseal('sized', 8, padTo8(key)), { instanceOf: HsmError, message: /unseal-failed/ });
  const dirty = padTo8(key);
  dirty[23] = 1;
  t.throws(() => unseal('sized', 20, dirty), { instanceOf: HsmError, message: /unseal-failed/ });
});

test('der: the DER length decides, trailing zeros are padding, anything else is refused', (t) => {
  const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), randomBytes(256)]);
  t.deepEqual(Buffer.from(unseal('der', 0, padTo8(der))), der);
  t.deepEqual(Buffer.from(unseal('der', 0, der)), der);
  t.throws(() => unseal('der', 0, der.subarray(0, 200)), { instanceOf: HsmError, message: /unseal-failed/ });
  t.throws(() => unseal('der', 0, Buffer.concat([der, Buffer.from([0, 0, 9])])), { instanceOf: HsmError });
});

test('foreign or unknown blobs are refused with the code of their kind', (t) => {
  const wrapped = randomBytes(40);
  t.deepEqual(Buffer.from(decodeKekBlob(encodeKekBlob(wrapped))), wrapped);
  const kek = t.throws(() => decodeKekBlob(Buffer.concat([Buffer.from('FK'), wrapped])), {
    instanceOf: HsmError,
  });
  t.is(kek.code, 'bad-key');
  const secret = encodeSecretBlob('framed', 0, wrapped);
  t.throws(() => decodeKekBlob(secret), { instanceOf: HsmError });
  const unknownLayout = Uint8Array.from(secret);
  unknownLayout[3] = 9;
  t.is(t.throws(() => decodeSecretBlob(unknownLayout), { instanceOf: HsmError }).code, 'unseal-failed');
  const newer = Uint8Array.from(secret);
  newer[2] = 2;
  t.is(t.throws(() => decodeSecretBlob(newer), { instanceOf: HsmError }).code, 'unseal-failed');
});

test('gcm: the parts of a layout-4 blob, and a body of the wrong length refused', (t) => {
  for (const size of [0, 1, 15, 16, 17, 32, 4096]) {
    const header = secretHeader('gcm', size);
    const body = randomBytes(12 + size + 16);
    const blob = Buffer.concat([header, body]);
    const decoded = decodeSecretBlob(blob);
    t.is(decoded.layout, 'gcm');
    t.is(decoded.length, size);
    const parts = gcmParts(blob, decoded);
    t.deepEqual(Buffer.from(parts.header), header);
    t.deepEqual(Buffer.from(parts.iv), body.subarray(0, 12));
    t.deepEqual(Buffer.from(parts.ciphertext), body.subarray(12));
    for (const wrong of [Buffer.concat([blob, Buffer.alloc(1)]), blob.subarray(0, blob.length - 1)]) {
      const error = t.throws(() => gcmParts(wrong, decodeSecretBlob(wrong)), { instanceOf: HsmError });
      t.is(error.code, 'unseal-failed');
    }
  }
  const error = t.throws(
    () =>
      unframe(decodeSecretBlob(Buffer.concat([secretHeader('gcm', 0), randomBytes(28)])), Buffer.alloc(8)),
    {
      instanceOf: HsmError,
    },
  );
  t.is(error.code, 'unseal-failed', 'a GCM blob never goes through key-wrap framing');
});

test('gcm: the AAD is header | format code | KEK id, different for each', (t) => {
  const header = secretHeader('gcm', 5);
  const aad = gcmAad(header, 'raw', 'kek-1');
  t.deepEqual(aad, Buffer.concat([header, Buffer.of(1), Buffer.from('kek-1')]));
  t.notDeepEqual(gcmAad(header, 'opaque', 'kek-1'), aad);
  t.notDeepEqual(gcmAad(header, 'pkcs8', 'kek-1'), aad);
  t.notDeepEqual(gcmAad(header, 'raw', 'kek-2'), aad);
  t.notDeepEqual(gcmAad(secretHeader('gcm', 6), 'raw', 'kek-1'), aad);
});
