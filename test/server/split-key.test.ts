/**
 * Create Split Key and Join Split Key (KMIP 1.4 §4.38-4.39, 2.1 §6.1.10, §6.1.27) over real mutual TLS at 1.4 and
 * 2.1: the parts the server makes are fetched with Get and joined here by an implementation of the test's own
 * (GF(2^8) with x^8 + x^4 + x^3 + x^2 + 1 by log tables, and XOR), compared with the key that was split; the server's
 * own join from every threshold-sized subset; and each refusal by its reason.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  enumXml,
  intXml,
  uidXml,
  usage,
  type Answer,
  type AttributeSpec,
  type Version,
  type VersionedClient,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

// GF(2^8) by exp/log tables over the generator 2 (the server multiplies bit by bit instead).
const exp = new Array<number>(512).fill(0);
const log = new Array<number>(256).fill(0);
for (let i = 0, x = 1; i < 255; i++) {
  exp[i] = x;
  log[x] = i;
  x <<= 1;
  if (x & 0x100) x ^= 0x11d;
}
for (let i = 255; i < 512; i++) exp[i] = exp[i - 255] ?? 0;
const mul = (a: number, b: number): number =>
  a === 0 || b === 0 ? 0 : (exp[(log[a] ?? 0) + (log[b] ?? 0)] ?? 0);
const div = (a: number, b: number): number => (a === 0 ? 0 : (exp[(log[a] ?? 0) + 255 - (log[b] ?? 0)] ?? 0));

/** Lagrange interpolation at 0, byte by byte. */
function lagrange(parts: readonly { id: number; bytes: Buffer }[]): Buffer {
  const out = Buffer.alloc(parts[0]?.bytes.length ?? 0);
  for (const part of parts) {
    let weight = 1;
    for (const other of parts)
      if (other.id !== part.id) weight = mul(weight, div(other.id, other.id ^ part.id));
    for (let j = 0; j < out.length; j++) out[j] = (out[j] ?? 0) ^ mul(part.bytes[j] ?? 0, weight);
  }
  return out;
}

const aes128 = [
  attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
  attr('CryptographicLength', 'Integer', '128'),
];

function splitXml(
  kmip: VersionedClient,
  uid: string | undefined,
  parts: number,
  threshold: number,
  method: string,
  attributes = aes128,
  /** The template sent with an existing key (none by default). */
  withKey: readonly AttributeSpec[] = [],
): string {
  return (
    enumXml('ObjectType', 'SplitKey') +
    (uid === undefined ? '' : uidXml(uid)) +
    intXml('SplitKeyParts', parts) +
    intXml('SplitKeyThreshold', threshold) +
    enumXml('SplitKeyMethod', method) +
    attributesXml(kmip.version, uid === undefined ? attributes : withKey)
  );
}

function joinXml(kmip: VersionedClient, uids: readonly string[]): string {
  return (
    enumXml('ObjectType', 'SymmetricKey') + uids.map(uidXml).join('') + attributesXml(kmip.version, aes128)
  );
}

const uidsOf = (answer: Answer): string[] =>
  [...answer.xml.matchAll(/UniqueIdentifier type="TextString" value="([^"]+)"/g)].map((m) => m[1] ?? '');

async function part(kmip: VersionedClient, uid: string): Promise<{ id: number; bytes: Buffer }> {
  const got = await kmip.must('Get', uidXml(uid));
  return { id: Number(got.value('KeyPartIdentifier')), bytes: got.bytes('KeyMaterial') };
}

for (const version of ['1.4', '2.1'] as const satisfies readonly Version[]) {
  test.serial(`${version}: a registered key split 3 of 5 over GF(2^8) joins from any 3 parts`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt Decrypt'), activeSinceAnHour]);
    // A template length that is not the key's: the key's own attributes go to the parts (KMIP 1.4 §4.38).
    const split = await kmip.must(
      'CreateSplitKey',
      splitXml(
        kmip,
        uid,
        5,
        3,
        'PolynomialSharingGF2_8',
        [],
        [attr('CryptographicLength', 'Integer', '256')],
      ),
    );
    const parts = uidsOf(split);
    t.is(parts.length, 5);
    const fetched = await Promise.all(parts.map((p) => part(kmip, p)));
    t.deepEqual(
      fetched.map((p) => p.id),
      [1, 2, 3, 4, 5],
    );
    t.true(
      fetched.every((p) => !p.bytes.equals(key)),
      'no part is the key',
    );
    const partAttributes = await kmip.must('GetAttributes', uidXml(parts[0] ?? ''));
    t.regex(partAttributes.xml, /value="128"/, 'the key’s own length');
    t.notRegex(partAttributes.xml, /value="256"/);
    // Joined here, from two different triples.
    t.deepEqual(lagrange(fetched.slice(0, 3)), key);
    t.deepEqual(lagrange([fetched[4], fetched[1], fetched[3]].filter((p) => p !== undefined)), key);
    t.notDeepEqual(lagrange(fetched.slice(0, 2)), key, 'two parts are not enough');
    // Joined by the server.
    const joined = await kmip.must(
      'JoinSplitKey',
      joinXml(kmip, [parts[4] ?? '', parts[0] ?? '', parts[2] ?? '']),
    );
    t.deepEqual(await kmip.keyMaterial(joined.value('UniqueIdentifier') ?? ''), key);
  });

  test.serial(`${version}: a new key split by XOR: the parts XOR to the key the server joins`, async (t) => {
    const kmip = client(version);
    const split = await kmip.must('CreateSplitKey', splitXml(kmip, undefined, 3, 3, 'XOR'));
    const parts = uidsOf(split);
    const fetched = await Promise.all(parts.map((p) => part(kmip, p)));
    const xored = Buffer.alloc(16);
    for (const p of fetched) for (let i = 0; i < 16; i++) xored[i] = (xored[i] ?? 0) ^ (p.bytes[i] ?? 0);
    const joined = await kmip.must('JoinSplitKey', joinXml(kmip, parts));
    t.deepEqual(await kmip.keyMaterial(joined.value('UniqueIdentifier') ?? ''), xored);
  });

  test.serial(`${version}: refusals name their reason`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt')]);
    const outcome = async (operation: string, payload: string): Promise<string> =>
      (await kmip.call(operation, payload)).outcome;
    t.is(
      await outcome('CreateSplitKey', splitXml(kmip, uid, 4, 2, 'XOR')),
      'OperationFailed/InvalidField',
      'XOR below all parts',
    );
    t.is(
      await outcome('CreateSplitKey', splitXml(kmip, uid, 3, 2, 'PolynomialSharingPrimeField')),
      'OperationFailed/FeatureNotSupported',
      'a prime field',
    );
    t.is(
      await outcome('CreateSplitKey', splitXml(kmip, undefined, 3, 2, 'PolynomialSharingGF2_8', [])),
      'OperationFailed/InvalidField',
      'a new key of no algorithm',
    );
    const first = uidsOf(
      await kmip.must('CreateSplitKey', splitXml(kmip, uid, 4, 3, 'PolynomialSharingGF2_8')),
    );
    const second = uidsOf(
      await kmip.must('CreateSplitKey', splitXml(kmip, uid, 4, 3, 'PolynomialSharingGF2_8')),
    );
    t.is(
      await outcome('JoinSplitKey', joinXml(kmip, first.slice(0, 2))),
      'OperationFailed/CryptographicFailure',
      'fewer parts than the threshold',
    );
    t.is(
      await outcome('JoinSplitKey', joinXml(kmip, [first[0] ?? '', first[0] ?? '', first[1] ?? ''])),
      'OperationFailed/CryptographicFailure',
      'the same part twice',
    );
    // Parts of two splits of one key cannot be told apart (a Split Key names no split): they join to another value.
    const mixed = await kmip.must(
      'JoinSplitKey',
      joinXml(kmip, [first[0] ?? '', second[1] ?? '', first[2] ?? '']),
    );
    t.notDeepEqual(await kmip.keyMaterial(mixed.value('UniqueIdentifier') ?? ''), key, 'parts of two splits');
    t.is(
      await outcome('JoinSplitKey', joinXml(kmip, [uid])),
      'OperationFailed/InvalidField',
      'not a Split Key',
    );

    // A value that may not leave in clear may not leave in parts either (KMIP 1.4 §3.48, §3.50).
    const sensitive = await kmip.registerSymmetric(key, [
      usage('Encrypt'),
      attr('Sensitive', 'Boolean', 'true'),
    ]);
    t.is(
      await outcome('CreateSplitKey', splitXml(kmip, sensitive, 3, 2, 'PolynomialSharingGF2_8')),
      'OperationFailed/Sensitive',
      'a Sensitive key',
    );
    const fixed = await kmip.registerSymmetric(key, [
      usage('Encrypt'),
      attr('Extractable', 'Boolean', 'false'),
    ]);
    t.is(
      await outcome('CreateSplitKey', splitXml(kmip, fixed, 3, 2, 'PolynomialSharingGF2_8')),
      'OperationFailed/NotExtractable',
      'a key that is not Extractable',
    );

    // Registered XOR parts that claim a threshold below their count still need every part (§2.2.5).
    const xorPart = (id: number, bytes: Buffer): string =>
      `${enumXml('ObjectType', 'SplitKey')}${attributesXml(kmip.version, [])}<SplitKey>${intXml('SplitKeyParts', 3)}` +
      `${intXml('KeyPartIdentifier', id)}${intXml('SplitKeyThreshold', 2)}${enumXml('SplitKeyMethod', 'XOR')}` +
      `<KeyBlock>${enumXml('KeyFormatType', 'Raw')}<KeyValue><KeyMaterial type="ByteString" value="${bytes.toString('hex')}"/></KeyValue></KeyBlock></SplitKey>`;
    const registered: string[] = [];
    for (const id of [1, 2, 3]) {
      registered.push(
        (await kmip.must('Register', xorPart(id, randomBytes(16)))).value('UniqueIdentifier') ?? '',
      );
    }
    t.is(
      await outcome('JoinSplitKey', joinXml(kmip, registered.slice(0, 2))),
      'OperationFailed/CryptographicFailure',
      'two of three XOR parts',
    );
    t.is((await kmip.call('JoinSplitKey', joinXml(kmip, registered))).outcome, 'Success/-', 'all three');
  });
}
