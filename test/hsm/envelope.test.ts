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
