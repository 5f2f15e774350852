/**
 * Encrypt, Decrypt, Sign and Signature Verify with RSA and EC keys over real mutual TLS, in KMIP 1.4 and 2.1
 * (KMIP 1.4 §4.29-4.32; 2.1 §6.1.11, §6.1.20, §6.1.52-53): keys node:crypto made and the test registered, and keys
 * the server generated in its token (Create, Create Key Pair). Deterministic outputs (PKCS#1 v1.5 signatures,
 * AES) are compared byte for byte with node:crypto; randomised ones (OAEP, PSS, ECDSA) are checked by having
 * node:crypto decrypt or verify them, and node:crypto's own are given to the server.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  sign as nodeSign,
  verify as nodeVerify,
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
  VersionedClient,
  versions,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const message = Buffer.from('a message of some length, to be signed and verified', 'utf8');
const secret = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

const der = (key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'spki'): Buffer => key.export({ format: 'der', type });

interface RsaKeys {
  readonly privateUid: string;
  readonly publicUid: string;
}

/** The RSA pair, registered: private key as PKCS#1 or PKCS#8, public key as X.509, both Active. */
async function registerRsa(kmip: VersionedClient, format: 'PKCS_1' | 'PKCS_8'): Promise<RsaKeys> {
  const privateUid = await kmip.registerAsymmetric(
    'PrivateKey',
    format,
    der(rsa.privateKey, format === 'PKCS_1' ? 'pkcs1' : 'pkcs8'),
    'RSA',
    2048,
    [usage('Sign Decrypt'), activeSinceAnHour],
  );
  const publicUid = await kmip.registerAsymmetric(
    'PublicKey',
    'X_509',
    der(rsa.publicKey, 'spki'),
    'RSA',
    2048,
    [usage('Verify Encrypt'), activeSinceAnHour],
  );
  return { privateUid, publicUid };
}

const oaepSha256 =
  enumXml('PaddingMethod', 'OAEP') +
  enumXml('HashingAlgorithm', 'SHA_256') +
  enumXml('MaskGenerator', 'MGF1') +
  enumXml('MaskGeneratorHashingAlgorithm', 'SHA_256');
const pkcs1Sha256 = enumXml('DigitalSignatureAlgorithm', 'SHA_256WithRSAEncryption');

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * createHash(hash).digest().length < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * EME-OAEP decoding (RFC 8017 §7.1.2 step 3) of a raw RSA decryption, written out because node:crypto cannot
 * take a mask generator hash that differs from the OAEP hash.
 */
function oaepDecode(em: Buffer, hash: string, mgfHash: string, label = Buffer.alloc(0)): Buffer | undefined {
  const hLen = createHash(hash).digest().length;
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seedMask = mgf1(maskedDb, hLen, mgfHash);
  const seed = Buffer.from(maskedSeed.map((b, i) => b ^ (seedMask[i] ?? 0)));
  const dbMask = mgf1(seed, maskedDb.length, mgfHash);
  const db = Buffer.from(maskedDb.map((b, i) => b ^ (dbMask[i] ?? 0)));
  const lHash = createHash(hash).update(label).digest();
  if (em[0] !== 0 || !db.subarray(0, hLen).equals(lHash)) return undefined;
  const one = db.indexOf(1, hLen);
  if (one < 0 || db.subarray(hLen, one).some((b) => b !== 0)) return undefined;
  return db.subarray(one + 1);
}

const rawRsaDecrypt = (ciphertext: Buffer): Buffer =>
  privateDecrypt({ key: rsa.privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);

for (const version of versions) {
  test.serial(`${version}: RSA Encrypt with OAEP SHA-256 is decrypted by node:crypto`, async (t) => {
    const kmip = client(version);
    const { publicUid } = await registerRsa(kmip, 'PKCS_8');
    const answer = await kmip.call(
      'Encrypt',
      `${uidXml(publicUid)}${parametersXml(oaepSha256)}${bytesXml('Data', secret)}`,
    );
    const ciphertext = answer.bytes('Data');
    t.is(ciphertext.length, 256, 'one modulus-sized block');
    t.false(answer.has('IVCounterNonce'));
    const plain = privateDecrypt(
      { key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      ciphertext,
    );
    t.is(plain.toString('hex'), secret.toString('hex'));
  });

  test.serial(
    `${version}: RSA OAEP masks with MGF1-SHA-1 unless told otherwise (KMIP 1.4 §3.6)`,
    async (t) => {
      // Table 65: Mask Generator defaults to MGF1, Mask Generator Hashing Algorithm to SHA-1, whatever the OAEP hash.
      const kmip = client(version);
      const { publicUid } = await registerRsa(kmip, 'PKCS_8');
      const parameters = enumXml('PaddingMethod', 'OAEP') + enumXml('HashingAlgorithm', 'SHA_256');
      const answer = await kmip.call(
        'Encrypt',
        `${uidXml(publicUid)}${parametersXml(parameters)}${bytesXml('Data', secret)}`,
      );
      const em = rawRsaDecrypt(answer.bytes('Data'));
      t.is(oaepDecode(em, 'sha256', 'sha1')?.toString('hex'), secret.toString('hex'));
      t.is(oaepDecode(em, 'sha256', 'sha256'), undefined, 'not MGF1-SHA-256');
    },
  );

  test.serial(`${version}: RSA OAEP with a P Source (label) both ways with node:crypto`, async (t) => {
    const kmip = client(version);
    const { privateUid, publicUid } = await registerRsa(kmip, 'PKCS_1');
    const label = Buffer.from('a label', 'utf8');
    const parameters = parametersXml(oaepSha256 + bytesXml('PSource', label));
    const encrypted = await kmip.call(
      'Encrypt',
      `${uidXml(publicUid)}${parameters}${bytesXml('Data', secret)}`,
    );
    const plain = privateDecrypt(
      {
        key: rsa.privateKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: 'sha256',
        oaepLabel: label,
      },
      encrypted.bytes('Data'),
    );
    t.is(plain.toString('hex'), secret.toString('hex'), 'node decrypts with the label');
    const fromNode = publicEncrypt(
      { key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
      secret,
    );
    const decrypted = await kmip.call(
      'Decrypt',
      `${uidXml(privateUid)}${parameters}${bytesXml('Data', fromNode)}`,
    );
    t.is(
      decrypted.bytes('Data').toString('hex'),
      secret.toString('hex'),
      'the server decrypts with the label',
    );
    const noLabel = await kmip.call(
      'Decrypt',
      `${uidXml(privateUid)}${parametersXml(oaepSha256)}${bytesXml('Data', fromNode)}`,
    );
    t.is(noLabel.outcome, 'OperationFailed/CryptographicFailure', 'another label does not decrypt');
  });

  for (const format of ['PKCS_1', 'PKCS_8'] as const) {
    test.serial(
      `${version}: RSA Decrypt (private key ${format}) of node's OAEP SHA-256 ciphertext`,
      async (t) => {
        const kmip = client(version);
        const { privateUid } = await registerRsa(kmip, format);
        const ciphertext = publicEncrypt(
          { key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          secret,
        );
        const answer = await kmip.call(
          'Decrypt',
          `${uidXml(privateUid)}${parametersXml(oaepSha256)}${bytesXml('Data', ciphertext)}`,
        );
        t.is(answer.bytes('Data').toString('hex'), secret.toString('hex'));
        const broken = Buffer.from(ciphertext);
        broken[100] = (broken[100] ?? 0) ^ 0x01;
        const refused = await kmip.call(
          'Decrypt',
          `${uidXml(privateUid)}${parametersXml(oaepSha256)}${bytesXml('Data', broken)}`,
        );
        t.is(refused.outcome, 'OperationFailed/CryptographicFailure', refused.xml);
      },
    );

    test.serial(
      `${version}: RSA Sign PKCS#1 v1.5 SHA-256 (private key ${format}) equals node's signature`,
      async (t) => {
        const kmip = client(version);
        const { privateUid } = await registerRsa(kmip, format);
        const expected = nodeSign('sha256', message, rsa.privateKey).toString('hex');
        for (const parameters of [
          pkcs1Sha256,
          enumXml('PaddingMethod', 'PKCS1V1_5') + enumXml('HashingAlgorithm', 'SHA_256'),
          enumXml('CryptographicAlgorithm', 'RSA') +
            enumXml('PaddingMethod', 'PKCS1V1_5') +
            enumXml('HashingAlgorithm', 'SHA_256'),
        ]) {
          const answer = await kmip.call(
            'Sign',
            `${uidXml(privateUid)}${parametersXml(parameters)}${bytesXml('Data', message)}`,
          );
          t.is(answer.value('UniqueIdentifier'), privateUid);
          t.is(answer.bytes('SignatureData').toString('hex'), expected, parameters);
        }
      },
    );
  }

  test.serial(`${version}: RSA Sign with PSS verifies with node:crypto`, async (t) => {
    const kmip = client(version);
    const { privateUid } = await registerRsa(kmip, 'PKCS_8');
    const pss = (saltLength: number) => ({
      key: rsa.publicKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength,
    });
    for (const [parameters, saltLength] of [
      [enumXml('PaddingMethod', 'PSS') + enumXml('HashingAlgorithm', 'SHA_256'), 32],
      [enumXml('DigitalSignatureAlgorithm', 'RSASSA_PSS') + enumXml('HashingAlgorithm', 'SHA_256'), 32],
      [
        enumXml('PaddingMethod', 'PSS') + enumXml('HashingAlgorithm', 'SHA_256') + intXml('SaltLength', 20),
        20,
      ],
    ] as const) {
      const answer = await kmip.call(
        'Sign',
        `${uidXml(privateUid)}${parametersXml(parameters)}${bytesXml('Data', message)}`,
      );
      const signature = answer.bytes('SignatureData');
      t.is(signature.length, 256);
      t.true(nodeVerify('sha256', message, pss(saltLength), signature), `${parameters}: salt ${saltLength}`);
      t.false(nodeVerify('sha256', Buffer.from('other'), pss(saltLength), signature));
    }
  });

  test.serial(
    `${version}: RSA Signature Verify: node's signatures Valid, altered ones Invalid`,
    async (t) => {
      const kmip = client(version);
      const { publicUid } = await registerRsa(kmip, 'PKCS_1');
      const verify = (parameters: string, data: Buffer, signature: Buffer) =>
        kmip.call(
          'SignatureVerify',
          `${uidXml(publicUid)}${parametersXml(parameters)}${bytesXml('Data', data)}${bytesXml('SignatureData', signature)}`,
        );
      const pkcs1 = nodeSign('sha256', message, rsa.privateKey);
      const valid = await verify(pkcs1Sha256, message, pkcs1);
      t.is(valid.outcome, 'Success/-', valid.xml);
      t.is(valid.value('ValidityIndicator'), 'Valid');
      t.is(valid.value('UniqueIdentifier'), publicUid);
      const altered = Buffer.from(pkcs1);
      altered[10] = (altered[10] ?? 0) ^ 0x01;
      const invalid = await verify(pkcs1Sha256, message, altered);
      t.is(invalid.outcome, 'Success/-', 'an invalid signature is an answer, not a failure');
      t.is(invalid.value('ValidityIndicator'), 'Invalid');
      t.is((await verify(pkcs1Sha256, secret, pkcs1)).value('ValidityIndicator'), 'Invalid', 'other data');
      t.is(
        (await verify(pkcs1Sha256, message, pkcs1.subarray(0, 100))).value('ValidityIndicator'),
        'Invalid',
        'a short signature',
      );
      // node's PSS signatures, with the salt as long as the key allows (node's default) and with a 32-byte salt.
      const pssParameters = enumXml('PaddingMethod', 'PSS') + enumXml('HashingAlgorithm', 'SHA_256');
      for (const saltLength of [constants.RSA_PSS_SALTLEN_MAX_SIGN, 32]) {
        const pss = nodeSign('sha256', message, {
          key: rsa.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength,
        });
        t.is(
          (await verify(pssParameters, message, pss)).value('ValidityIndicator'),
          'Valid',
          `salt ${saltLength}`,
        );
        t.is((await verify(pssParameters, secret, pss)).value('ValidityIndicator'), 'Invalid');
      }
    },
  );

  test.serial(`${version}: RSA Sign and Signature Verify of Digested Data`, async (t) => {
    const kmip = client(version);
    const { privateUid, publicUid } = await registerRsa(kmip, 'PKCS_8');
    const digest = createHash('sha256').update(message).digest();
    const signed = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${parametersXml(pkcs1Sha256)}${bytesXml('DigestedData', digest)}`,
    );
    t.is(
      signed.bytes('SignatureData').toString('hex'),
      nodeSign('sha256', message, rsa.privateKey).toString('hex'),
      'the signature of the message whose digest was given',
    );
    const verified = await kmip.call(
      'SignatureVerify',
      `${uidXml(publicUid)}${parametersXml(pkcs1Sha256)}${bytesXml('DigestedData', digest)}${bytesXml('SignatureData', signed.bytes('SignatureData'))}`,
    );
    t.is(verified.value('ValidityIndicator'), 'Valid');
    const pssParameters = enumXml('PaddingMethod', 'PSS') + enumXml('HashingAlgorithm', 'SHA_256');
    const pss = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${parametersXml(pssParameters)}${bytesXml('DigestedData', digest)}`,
    );
    t.true(
      nodeVerify(
        'sha256',
        message,
        { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        pss.bytes('SignatureData'),
      ),
    );
    const both = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${parametersXml(pkcs1Sha256)}${bytesXml('Data', message)}${bytesXml('DigestedData', digest)}`,
    );
    t.is(both.outcome, 'OperationFailed/InvalidField', 'Data or Digested Data, not both');

    // With no hash named, PKCS#1 v1.5 signs the Digested Data as given: a DigestInfo built here for SHA-256 (RFC 8017
    // §9.2 note 1) gives node:crypto's SHA-256 signature of the message.
    const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]);
    const rsaOnly = parametersXml(enumXml('CryptographicAlgorithm', 'RSA'));
    const raw = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${rsaOnly}${bytesXml('DigestedData', digestInfo)}`,
    );
    t.is(raw.outcome, 'Success/-', raw.xml);
    t.is(
      raw.bytes('SignatureData').toString('hex'),
      nodeSign('sha256', message, rsa.privateKey).toString('hex'),
    );
    const rawVerified = await kmip.call(
      'SignatureVerify',
      `${uidXml(publicUid)}${rsaOnly}${bytesXml('DigestedData', digestInfo)}${bytesXml('SignatureData', raw.bytes('SignatureData'))}`,
    );
    t.is(rawVerified.value('ValidityIndicator'), 'Valid');
    const pssNoHash = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${parametersXml(enumXml('PaddingMethod', 'PSS'))}${bytesXml('DigestedData', digest)}`,
    );
    t.is(pssNoHash.outcome, 'OperationFailed/InvalidField', 'PSS over Digested Data needs its hash');
  });

  test.serial(`${version}: ECDSA P-256 Sign and Signature Verify agree with node:crypto (DER)`, async (t) => {
    const kmip = client(version);
    const privateUid = await kmip.registerAsymmetric(
      'PrivateKey',
      'PKCS_8',
      der(ec.privateKey, 'pkcs8'),
      'EC',
      256,
      [usage('Sign'), activeSinceAnHour],
    );
    const publicUid = await kmip.registerAsymmetric(
      'PublicKey',
      'X_509',
      der(ec.publicKey, 'spki'),
      'EC',
      256,
      [usage('Verify'), activeSinceAnHour],
    );
    const ecdsa = enumXml('DigitalSignatureAlgorithm', 'ECDSAWithSHA256');
    const signed = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${parametersXml(ecdsa)}${bytesXml('Data', message)}`,
    );
    const signature = signed.bytes('SignatureData');
    t.is(signature[0], 0x30, 'a DER SEQUENCE');
    t.true(nodeVerify('sha256', message, ec.publicKey, signature));
    t.false(nodeVerify('sha256', secret, ec.publicKey, signature));

    const digest = createHash('sha256').update(message).digest();
    const digested = await kmip.call(
      'Sign',
      `${uidXml(privateUid)}${parametersXml(ecdsa)}${bytesXml('DigestedData', digest)}`,
    );
    t.true(nodeVerify('sha256', message, ec.publicKey, digested.bytes('SignatureData')), 'Digested Data');

    const verify = (data: Buffer, sig: Buffer) =>
      kmip.call(
        'SignatureVerify',
        `${uidXml(publicUid)}${parametersXml(ecdsa)}${bytesXml('Data', data)}${bytesXml('SignatureData', sig)}`,
      );
    const fromNode = nodeSign('sha256', message, ec.privateKey);
    t.is((await verify(message, fromNode)).value('ValidityIndicator'), 'Valid');
    t.is((await verify(secret, fromNode)).value('ValidityIndicator'), 'Invalid');
    const altered = Buffer.from(fromNode);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 0x01;
    t.is((await verify(message, altered)).value('ValidityIndicator'), 'Invalid');
    t.is(
      (await verify(message, Buffer.from('3000', 'hex'))).value('ValidityIndicator'),
      'Invalid',
      'not a signature',
    );
  });

  test.serial(
    `${version}: a generated AES-256 key encrypts as node:crypto does with its bytes, and decrypts`,
    async (t) => {
      const kmip = client(version);
      const created = await kmip.must(
        'Create',
        `<ObjectType type="Enumeration" value="SymmetricKey"/>${attributesXml(version, [
          attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
          attr('CryptographicLength', 'Integer', '256'),
          usage('Encrypt Decrypt'),
          activeSinceAnHour,
        ])}`,
      );
      const uid = created.value('UniqueIdentifier') ?? '';
      const iv = Buffer.from('000102030405060708090a0b', 'hex');
      const gcm = enumXml('BlockCipherMode', 'GCM') + intXml('TagLength', 16);
      const encrypted = await kmip.call(
        'Encrypt',
        `${uidXml(uid)}${parametersXml(gcm)}${bytesXml('Data', message)}${bytesXml('IVCounterNonce', iv)}`,
      );
      const data = encrypted.bytes('Data');
      const tag = encrypted.bytes('AuthenticatedEncryptionTag');
      const decrypted = await kmip.call(
        'Decrypt',
        `${uidXml(uid)}${parametersXml(gcm)}${bytesXml('Data', data)}${bytesXml('IVCounterNonce', iv)}${bytesXml('AuthenticatedEncryptionTag', tag)}`,
      );
      t.is(decrypted.bytes('Data').toString('hex'), message.toString('hex'));
      const key = await kmip.keyMaterial(uid);
      t.is(key.length, 32);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const expected = Buffer.concat([cipher.update(message), cipher.final()]);
      t.is(data.toString('hex'), expected.toString('hex'), 'the token encrypted with the key Get returns');
      t.is(tag.toString('hex'), cipher.getAuthTag().toString('hex'));
    },
  );

  for (const kind of ['RSA-2048', 'EC P-256'] as const) {
    test.serial(`${version}: a generated ${kind} pair signs, verifies, and node:crypto agrees`, async (t) => {
      const kmip = client(version);
      const algorithm =
        kind === 'RSA-2048'
          ? [
              attr('CryptographicAlgorithm', 'Enumeration', 'RSA'),
              attr('CryptographicLength', 'Integer', '2048'),
            ]
          : [
              attr('CryptographicAlgorithm', 'Enumeration', 'EC'),
              version === '1.4'
                ? structAttr('CryptographicDomainParameters', enumXml('RecommendedCurve', 'P_256'))
                : attr('RecommendedCurve', 'Enumeration', 'P_256'),
            ];
      const pair = await kmip.must(
        'CreateKeyPair',
        attributesXml(version, [...algorithm, activeSinceAnHour], {
          v1: 'CommonTemplateAttribute',
          v2: 'CommonAttributes',
        }),
      );
      const privateUid = pair.value('PrivateKeyUniqueIdentifier') ?? '';
      const publicUid = pair.value('PublicKeyUniqueIdentifier') ?? '';
      const parameters = parametersXml(
        kind === 'RSA-2048' ? pkcs1Sha256 : enumXml('DigitalSignatureAlgorithm', 'ECDSAWithSHA256'),
      );
      const signed = await kmip.call(
        'Sign',
        `${uidXml(privateUid)}${parameters}${bytesXml('Data', message)}`,
      );
      const signature = signed.bytes('SignatureData');
      const verify = (data: Buffer) =>
        kmip.call(
          'SignatureVerify',
          `${uidXml(publicUid)}${parameters}${bytesXml('Data', data)}${bytesXml('SignatureData', signature)}`,
        );
      t.is((await verify(message)).value('ValidityIndicator'), 'Valid');
      t.is((await verify(secret)).value('ValidityIndicator'), 'Invalid');
      const publicKey = createPublicKey({
        key: await kmip.keyMaterial(publicUid, 'X_509'),
        format: 'der',
        type: 'spki',
      });
      t.true(nodeVerify('sha256', message, publicKey, signature), 'node verifies with the public key of Get');
      if (kind === 'RSA-2048') {
        const encrypted = await kmip.call(
          'Encrypt',
          `${uidXml(publicUid)}${parametersXml(oaepSha256)}${bytesXml('Data', secret)}`,
        );
        const decrypted = await kmip.call(
          'Decrypt',
          `${uidXml(privateUid)}${parametersXml(oaepSha256)}${bytesXml('Data', encrypted.bytes('Data'))}`,
        );
        t.is(decrypted.bytes('Data').toString('hex'), secret.toString('hex'), 'OAEP round trip');
        const fromNode = publicEncrypt(
          { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          secret,
        );
        const fromNodeDecrypted = await kmip.call(
          'Decrypt',
          `${uidXml(privateUid)}${parametersXml(oaepSha256)}${bytesXml('Data', fromNode)}`,
        );
        t.is(fromNodeDecrypted.bytes('Data').toString('hex'), secret.toString('hex'));
      }
    });
  }
}
