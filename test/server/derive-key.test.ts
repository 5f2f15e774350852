/**
 * Derive Key (KMIP 1.4 §4.6, 2.1 §6.1.12) over real mutual TLS, at 1.4 and 2.1: every derived value is computed
 * here again with node:crypto (SHA-256, HMAC, PBKDF2, AES-CBC) from the bytes the test registered, and compared byte
 * for byte with what Get serves; the links both ways; each refusal by its reason, with nothing stored.
 */
import {
  createCipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  pbkdf2Sync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import test from 'ava';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  bytesXml,
  enumXml,
  intXml,
  parametersXml,
  structAttr,
  uidXml,
  usage,
  v2,
  versions,
  type Answer,
  type AttributeSpec,
  type VersionedClient,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const aes128 = [
  attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
  attr('CryptographicLength', 'Integer', '128'),
  usage('Encrypt Decrypt'),
];

/** A Derive Key request: the derived object's type, the base (and data) identifiers, method and parameters. */
function deriveXml(
  kmip: VersionedClient,
  uids: readonly string[],
  method: string,
  parameters: string,
  attributes: readonly AttributeSpec[] = aes128,
  objectType = 'SymmetricKey',
): string {
  return (
    enumXml('ObjectType', objectType) +
    uids.map(uidXml).join('') +
    enumXml('DerivationMethod', method) +
    `<DerivationParameters>${parameters}</DerivationParameters>` +
    attributesXml(kmip.version, attributes)
  );
}

async function derived(...request: Parameters<typeof deriveXml>): Promise<string> {
  const [kmip] = request;
  const uid = (await kmip.must('DeriveKey', deriveXml(...request))).value('UniqueIdentifier');
  if (uid === undefined) throw new Error('Derive Key answered no Unique Identifier');
  return uid;
}

const sha256 = parametersXml(enumXml('HashingAlgorithm', 'SHA_256'));
const baseUsage = usage('Encrypt Decrypt DeriveKey');

/** The Cryptographic Usage Mask an object has, as Get Attributes shows it (its flags by name). */
async function usageOf(kmip: VersionedClient, uid: string): Promise<string | undefined> {
  const { xml } = await kmip.must('GetAttributes', uidXml(uid));
  const v2 = /<CryptographicUsageMask type="Integer" value="([^"]*)"/.exec(xml);
  const v1 = /value="Cryptographic Usage Mask"\/>\s*<AttributeValue type="Integer" value="([^"]*)"/.exec(xml);
  return (v2 ?? v1)?.[1];
}

/** The Link of a type an object has, as Get Attributes shows it. */
async function linkTo(kmip: VersionedClient, uid: string, type: string): Promise<string | undefined> {
  const answer: Answer = await kmip.must('GetAttributes', uidXml(uid));
  const links = answer.xml.split(/<Link>|<AttributeValue>(?=\s*<LinkType)/).slice(1);
  for (const part of links) {
    if (part.includes(`value="${type}"`)) return /LinkedObjectIdentifier[^>]*value="([^"]+)"/.exec(part)?.[1];
  }
  return undefined;
}

for (const version of versions) {
  test.serial(`${version}: HASH derives the leading bytes of the base key's SHA-256`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const base = await kmip.registerSymmetric(key, [baseUsage, activeSinceAnHour]);
    const uid = await derived(kmip, [base], 'HASH', sha256);
    t.deepEqual(await kmip.keyMaterial(uid), createHash('sha256').update(key).digest().subarray(0, 16));
    // With Derivation Data, the hash is over the key and then the data.
    const data = randomBytes(7);
    const withData = await derived(kmip, [base], 'HASH', sha256 + bytesXml('DerivationData', data));
    t.deepEqual(
      await kmip.keyMaterial(withData),
      createHash('sha256')
        .update(Buffer.concat([key, data]))
        .digest()
        .subarray(0, 16),
    );
    // Links both ways (§4.6): Derived Key on the base, Derivation Base Object on the derived key.
    t.is(await linkTo(kmip, uid, 'DerivationBaseObjectLink'), base);
    t.is(await linkTo(kmip, base, 'DerivedKeyLink'), uid);
    // A usage mask the request does not give is set as Create sets it (KMIP 1.4 Table 97: it always has a value).
    const noMask = await derived(kmip, [base], 'HASH', sha256, aes128.slice(0, 2));
    t.is(await usageOf(kmip, noMask), 'Encrypt Decrypt');
    t.is(await usageOf(kmip, uid), 'Encrypt Decrypt', 'the mask the request gave');
  });

  test.serial(`${version}: HMAC derives from the Derivation Data keyed with the base key`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const data = Buffer.from('0102', 'hex');
    const base = await kmip.registerSymmetric(key, [baseUsage, activeSinceAnHour]);
    const uid = await derived(kmip, [base], 'HMAC', sha256 + bytesXml('DerivationData', data), [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '256'),
    ]);
    t.deepEqual(await kmip.keyMaterial(uid), createHmac('sha256', key).update(data).digest());
    // Without parameters, the hash is the base key's own HMAC algorithm's.
    const hmacKey = randomBytes(48);
    const hmacBase = await kmip.registerSymmetric(
      hmacKey,
      [usage('MACGenerate DeriveKey'), activeSinceAnHour],
      'HMAC_SHA384',
    );
    const fromAlgorithm = await derived(kmip, [hmacBase], 'HMAC', bytesXml('DerivationData', data));
    t.deepEqual(
      await kmip.keyMaterial(fromAlgorithm),
      createHmac('sha384', hmacKey).update(data).digest().subarray(0, 16),
    );
  });

  test.serial(`${version}: PBKDF2 derives from a password held as Secret Data`, async (t) => {
    const kmip = client(version);
    const password = Buffer.from('correct horse battery staple');
    const salt = randomBytes(12);
    const base = await kmip.registerSecretData(password, [usage('DeriveKey'), activeSinceAnHour]);
    const pbkdf2 = (iterations: number, hash?: string): string =>
      bytesXml('Salt', salt) +
      intXml('IterationCount', iterations) +
      (hash === undefined ? '' : parametersXml(enumXml('HashingAlgorithm', hash)));
    const sha1 = await derived(kmip, [base], 'PBKDF2', pbkdf2(1000));
    t.deepEqual(
      await kmip.keyMaterial(sha1),
      pbkdf2Sync(password, salt, 1000, 16, 'sha1'),
      'HMAC-SHA-1 by default',
    );
    const sha256Key = await derived(kmip, [base], 'PBKDF2', pbkdf2(3, 'SHA_256'), [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '256'),
    ]);
    t.deepEqual(await kmip.keyMaterial(sha256Key), pbkdf2Sync(password, salt, 3, 32, 'sha256'));
    // Secret Data can be derived too: 40 bytes, two SHA-1 blocks and part of a third.
    const seed = await derived(
      kmip,
      [base],
      'PBKDF2',
      pbkdf2(2),
      [attr('CryptographicLength', 'Integer', '320'), usage('DeriveKey')],
      'SecretData',
    );
    const got = await kmip.must('Get', uidXml(seed));
    t.is(got.value('ObjectType'), 'SecretData');
    t.deepEqual(got.bytes('KeyMaterial'), pbkdf2Sync(password, salt, 2, 40, 'sha1'));
  });

  test.serial(`${version}: ENCRYPT derives the Derivation Data encrypted under the base key`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const data = randomBytes(16);
    const base = await kmip.registerSymmetric(key, [baseUsage, activeSinceAnHour]);
    const uid = await derived(
      kmip,
      [base],
      'ENCRYPT',
      parametersXml(enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'None')) +
        bytesXml('DerivationData', data),
    );
    const cipher = createCipheriv('aes-128-cbc', key, Buffer.alloc(16)).setAutoPadding(false);
    t.deepEqual(await kmip.keyMaterial(uid), Buffer.concat([cipher.update(data), cipher.final()]));
  });

  test.serial(`${version}: Asymmetric Key agrees by ECDH with a peer's public key`, async (t) => {
    const kmip = client(version);
    const ecdh = parametersXml(enumXml('CryptographicAlgorithm', 'ECDH'));
    const aes256 = [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '256'),
    ];
    // A pair the server generates on secp256k1, and one made here on the same curve.
    const curve =
      version === '1.4'
        ? structAttr('CryptographicDomainParameters', enumXml('RecommendedCurve', 'SECP256K1'))
        : attr('RecommendedCurve', 'Enumeration', 'SECP256K1');
    const pair = await kmip.must(
      'CreateKeyPair',
      attributesXml(
        version,
        [attr('CryptographicAlgorithm', 'Enumeration', 'EC'), curve, usage('DeriveKey'), activeSinceAnHour],
        { v1: 'CommonTemplateAttribute', v2: 'CommonAttributes' },
      ),
    );
    const serverPrivate = pair.value('PrivateKeyUniqueIdentifier') ?? '';
    const serverPublic = pair.value('PublicKeyUniqueIdentifier') ?? '';
    const mine = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
    const myPublic = await kmip.registerAsymmetric('PublicKey', 'X_509', spki(mine.publicKey), 'EC', 256, [
      usage('DeriveKey'),
      activeSinceAnHour,
    ]);
    const myPrivate = await kmip.registerAsymmetric(
      'PrivateKey',
      'PKCS_8',
      mine.privateKey.export({ type: 'pkcs8', format: 'der' }),
      'EC',
      256,
      [usage('DeriveKey'), activeSinceAnHour],
    );
    const shared = diffieHellman({
      privateKey: mine.privateKey,
      publicKey: createPublicKey({
        key: await kmip.keyMaterial(serverPublic, 'X_509'),
        format: 'der',
        type: 'spki',
      }),
    });
    // Both sides of the agreement give the secret node:crypto computes: the server's generated private key with
    // the registered public key, and the registered private key with the server's public key.
    const fromGenerated = await derived(kmip, [serverPrivate, myPublic], 'AsymmetricKey', ecdh, aes256);
    t.deepEqual(await kmip.keyMaterial(fromGenerated), shared);
    const fromRegistered = await derived(kmip, [myPrivate, serverPublic], 'AsymmetricKey', ecdh, aes256);
    t.deepEqual(await kmip.keyMaterial(fromRegistered), shared);
    t.is(await linkTo(kmip, fromGenerated, 'DerivationBaseObjectLink'), serverPrivate);

    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherCurve = await kmip.registerAsymmetric('PublicKey', 'X_509', spki(other.publicKey), 'EC', 256, [
      usage('DeriveKey'),
      activeSinceAnHour,
    ]);
    t.is(
      (await kmip.call('DeriveKey', deriveXml(kmip, [myPrivate, otherCurve], 'AsymmetricKey', ecdh, aes256)))
        .outcome,
      'OperationFailed/CryptographicFailure',
      'a peer key on another curve',
    );
    t.is(
      (await kmip.call('DeriveKey', deriveXml(kmip, [myPrivate], 'AsymmetricKey', ecdh, aes256))).outcome,
      'OperationFailed/InvalidField',
      'no peer key',
    );
  });

  test.serial(`${version}: refusals name their reason and store nothing`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const base = await kmip.registerSymmetric(key, [baseUsage, activeSinceAnHour]);
    const outcome = async (...request: Parameters<typeof deriveXml>): Promise<string> =>
      (await kmip.call('DeriveKey', deriveXml(...request))).outcome;

    const noDeriveUsage = await kmip.registerSymmetric(key, [usage('Encrypt'), activeSinceAnHour]);
    t.is(
      await outcome(kmip, [noDeriveUsage], 'HASH', sha256),
      v2(version) ? 'OperationFailed/IncompatibleCryptographicUsageMask' : 'OperationFailed/PermissionDenied',
      'a base without Derive Key in its usage mask',
    );
    const preActive = await kmip.registerSymmetric(key, [baseUsage]);
    t.is(
      await outcome(kmip, [preActive], 'HASH', sha256),
      v2(version) ? 'OperationFailed/WrongKeyLifecycleState' : 'OperationFailed/PermissionDenied',
      'a Pre-Active base',
    );
    t.is(
      await outcome(kmip, [base], 'HASH', sha256, [usage('Encrypt')]),
      'OperationFailed/InvalidField',
      'a Symmetric Key without Cryptographic Algorithm and Length',
    );
    t.is(
      // Secret Data of 64 bytes: the length passes every check but the output's, which SHA-256 cannot fill.
      await outcome(
        kmip,
        [base],
        'HASH',
        sha256,
        [attr('CryptographicLength', 'Integer', '512')],
        'SecretData',
      ),
      'OperationFailed/InvalidField',
      'more bytes than SHA-256 gives',
    );
    t.is(
      await outcome(kmip, [base], 'HASH', sha256, [
        attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
        attr('CryptographicLength', 'Integer', '136'),
      ]),
      'OperationFailed/InvalidField',
      'an AES key of a length AES does not have',
    );
    t.is(await outcome(kmip, [base], 'HASH', ''), 'OperationFailed/InvalidField', 'HASH without a hash');
    t.is(
      await outcome(kmip, [base], 'NIST800_108_C', bytesXml('DerivationData', key)),
      'OperationFailed/FeatureNotSupported',
      'a method not offered',
    );
    const data = await kmip.registerSecretData(Buffer.from('data'), [usage('DeriveKey'), activeSinceAnHour]);
    t.is(
      await outcome(kmip, [base, data], 'HMAC', sha256 + bytesXml('DerivationData', key)),
      'OperationFailed/InvalidField',
      'Derivation Data given twice',
    );
    t.is(
      await outcome(kmip, [base], 'PBKDF2', bytesXml('Salt', key) + intXml('IterationCount', 100_001)),
      'OperationFailed/InvalidField',
      'more PBKDF2 iterations than the token thread is given',
    );
    t.is(await linkTo(kmip, base, 'DerivedKeyLink'), undefined, 'no refusal linked anything');
  });
}
