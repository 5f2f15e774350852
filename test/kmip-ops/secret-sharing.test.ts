/**
 * Key splitting (src/kmip-ops/crypto/secret-sharing.ts): the GF(2^8) join checked against the parts the OASIS test
 * case TC-SJ-3 publishes (made by another implementation), and split-join round trips for every subset size.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  joinPolynomial,
  joinXor,
  splitPolynomial,
  splitXor,
  type SharePart,
} from '../../src/kmip-ops/crypto/secret-sharing.js';

const published: SharePart[] = [
  { id: 1, bytes: Buffer.from('66C46A7754F94DE420C7B1A7FFF5EC56', 'hex') },
  { id: 2, bytes: Buffer.from('CF93D1E2A7E593CD5B8D6247F4E5D49C', 'hex') },
  { id: 3, bytes: Buffer.from('A855B891F61AD9217240D8EC061E37DA', 'hex') },
  { id: 4, bytes: Buffer.from('803DBAD55CDD329FAD19D99AE2C5A415', 'hex') },
];
const publishedSecret = '0102030405060708090a0b0c0d0e0f10';

test('any two of the published TC-SJ-3 parts (threshold 2) join to the published key', (t) => {
  for (let a = 0; a < published.length; a++) {
    for (let b = a + 1; b < published.length; b++) {
      const pair = [published[a], published[b]].filter((p): p is SharePart => p !== undefined);
      t.is(
        Buffer.from(joinPolynomial(pair)).toString('hex'),
        publishedSecret,
        `parts ${String(a + 1)} and ${String(b + 1)}`,
      );
    }
  }
  t.is(Buffer.from(joinPolynomial(published)).toString('hex'), publishedSecret, 'all four');
});

test('a polynomial split joins from any threshold-sized subset, and not from fewer parts', (t) => {
  const secret = randomBytes(32);
  for (const [parts, threshold] of [
    [5, 3],
    [4, 4],
    [7, 2],
    [3, 1],
  ] as const) {
    const shares = splitPolynomial(secret, parts, threshold, randomBytes((threshold - 1) * secret.length));
    t.is(shares.length, parts);
    t.deepEqual(
      shares.map((s) => s.id),
      Array.from({ length: parts }, (_, i) => i + 1),
    );
    for (let start = 0; start + threshold <= parts; start++) {
      const subset = shares.slice(start, start + threshold);
      t.deepEqual(
        Buffer.from(joinPolynomial(subset)),
        secret,
        `${String(parts)}/${String(threshold)} from ${String(start + 1)}`,
      );
    }
    if (threshold > 1) {
      t.notDeepEqual(Buffer.from(joinPolynomial(shares.slice(0, threshold - 1))), secret, 'one part short');
      t.notDeepEqual(Buffer.from(shares[0]?.bytes ?? []), secret, 'no part is the secret');
    }
  }
});

test('an XOR split needs every part', (t) => {
  const secret = randomBytes(16);
  const shares = splitXor(secret, 4, randomBytes(3 * 16));
  t.deepEqual(Buffer.from(joinXor(shares)), secret);
  t.notDeepEqual(Buffer.from(joinXor(shares.slice(1))), secret);
  // The parts XOR to the secret, computed here byte by byte.
  const xored = Buffer.alloc(16);
  for (const share of shares) for (let i = 0; i < 16; i++) xored[i] = (xored[i] ?? 0) ^ (share.bytes[i] ?? 0);
  t.deepEqual(xored, secret);
});
