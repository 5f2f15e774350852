/**
 * Encrypt, Decrypt, MAC, MAC Verify, Hash, RNG Retrieve and RNG Seed over real mutual TLS, in KMIP 1.4 and 2.1
 * (KMIP 1.4 §4.29-4.30, §4.33-4.37; 2.1 §6.1.11, §6.1.20, §6.1.23, §6.1.32-33, §6.1.47-48). Keys of known bytes are
 * registered, and every output the server computes is compared byte for byte with node:crypto's computation of the
 * same thing in the test; outputs the server chooses (IVs, random bytes) are checked by using them with node:crypto.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import test from 'ava';
import {
  activeSinceAnHour,
  bytesXml,
  enumXml,
  intXml,
  parametersAttr,
  parametersXml,
  uidXml,
  usage,
  versions,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

const aes128 = hex('000102030405060708090a0b0c0d0e0f');
const aes256 = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
const iv16 = hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
const nonce12 = hex('cafebabefacedbaddecaf888');
const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
/** Two whole AES blocks, and a length that is not a multiple of the block. */
const twoBlocks = hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51');
const odd = Buffer.from('twenty bytes of text', 'utf8');

const encryptXml = (uid: string, data: Uint8Array, parameters?: string, extra = ''): string =>
  `${uidXml(uid)}${parameters === undefined ? '' : parametersXml(parameters)}${bytesXml('Data', data)}${extra}`;

function nodeEncrypt(
  cipher: string,
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
  pad: boolean,
): Buffer {
  const c = createCipheriv(cipher, key, iv).setAutoPadding(pad);
  return Buffer.concat([c.update(data), c.final()]);
}

function nodeDecrypt(
  cipher: string,
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
  pad: boolean,
): Buffer {
  const d = createDecipheriv(cipher, key, iv).setAutoPadding(pad);
  return Buffer.concat([d.update(data), d.final()]);
}

function nodeGcm(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
  additional: Uint8Array,
  tagBytes: number,
): { data: Buffer; tag: Buffer } {
  const cipher = key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm';
  const c = createCipheriv(cipher, key, iv, { authTagLength: tagBytes });
  c.setAAD(additional);
  const out = Buffer.concat([c.update(data), c.final()]);
  return { data: out, tag: c.getAuthTag() };
}

const encryptDecrypt = usage('Encrypt Decrypt');

for (const version of versions) {
  test.serial(
    `${version}: AES-128 ECB, without padding and with PKCS5, equals node:crypto and decrypts`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(aes128, [encryptDecrypt, activeSinceAnHour]);
      for (const [padding, plain, pad] of [
        ['None', twoBlocks, false],
        ['PKCS5', odd, true],
      ] as const) {
        const parameters = enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', padding);
        const encrypted = await kmip.call('Encrypt', encryptXml(uid, plain, parameters));
        const expected = nodeEncrypt('aes-128-ecb', aes128, null, plain, pad);
        t.is(encrypted.bytes('Data').toString('hex'), expected.toString('hex'), `ECB ${padding}`);
        t.false(encrypted.has('IVCounterNonce'), 'ECB takes no IV, so none is returned');
        const decrypted = await kmip.call('Decrypt', encryptXml(uid, expected, parameters));
        t.is(decrypted.bytes('Data').toString('hex'), plain.toString('hex'), `ECB ${padding} decrypts`);
        t.is(decrypted.value('UniqueIdentifier'), uid);
      }
      // Without padding the data must be whole blocks: the server does not pad behind the client's back.
      const ragged = await kmip.call(
        'Encrypt',
        encryptXml(uid, odd, enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', 'None')),
      );
      t.is(ragged.status, 'OperationFailed', ragged.xml);
    },
  );

  test.serial(
    `${version}: AES-256 CBC with a given IV, PKCS5 and None, equals node:crypto and decrypts`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(aes256, [encryptDecrypt, activeSinceAnHour]);
      for (const [padding, plain, pad] of [
        ['PKCS5', odd, true],
        ['PKCS5', twoBlocks, true],
        ['None', twoBlocks, false],
      ] as const) {
        const parameters = enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', padding);
        const ivXml = bytesXml('IVCounterNonce', iv16);
        const encrypted = await kmip.call('Encrypt', encryptXml(uid, plain, parameters, ivXml));
        const expected = nodeEncrypt('aes-256-cbc', aes256, iv16, plain, pad);
        t.is(encrypted.bytes('Data').toString('hex'), expected.toString('hex'), `CBC ${padding}`);
        t.false(
          encrypted.has('IVCounterNonce'),
          'an IV the client gave is not returned (KMIP 1.4 Table 230)',
        );
        const decrypted = await kmip.call('Decrypt', encryptXml(uid, expected, parameters, ivXml));
        t.is(decrypted.bytes('Data').toString('hex'), plain.toString('hex'), `CBC ${padding} decrypts`);
      }
    },
  );

  test.serial(
    `${version}: AES GCM with AAD, tags of 16 and 12 bytes, equals node:crypto and decrypts`,
    async (t) => {
      const kmip = client(version);
      for (const key of [aes128, aes256]) {
        const uid = await kmip.registerSymmetric(key, [encryptDecrypt, activeSinceAnHour]);
        for (const tagBytes of [16, 12]) {
          const parameters = enumXml('BlockCipherMode', 'GCM') + intXml('TagLength', tagBytes);
          const extra =
            bytesXml('IVCounterNonce', nonce12) + bytesXml('AuthenticatedEncryptionAdditionalData', aad);
          const encrypted = await kmip.call('Encrypt', encryptXml(uid, odd, parameters, extra));
          const expected = nodeGcm(key, nonce12, odd, aad, tagBytes);
          const what = `AES-${key.length * 8} GCM, ${tagBytes}-byte tag`;
          t.is(encrypted.bytes('Data').toString('hex'), expected.data.toString('hex'), what);
          t.is(
            encrypted.bytes('AuthenticatedEncryptionTag').toString('hex'),
            expected.tag.toString('hex'),
            what,
          );
          const decrypted = await kmip.call(
            'Decrypt',
            encryptXml(
              uid,
              expected.data,
              parameters,
              extra + bytesXml('AuthenticatedEncryptionTag', expected.tag),
            ),
          );
          t.is(decrypted.bytes('Data').toString('hex'), odd.toString('hex'), `${what} decrypts`);
        }
      }
    },
  );

  test.serial(
    `${version}: GCM with a wrong tag or wrong AAD is Cryptographic Failure and returns no data`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(aes128, [encryptDecrypt, activeSinceAnHour]);
      const parameters = enumXml('BlockCipherMode', 'GCM') + intXml('TagLength', 16);
      const good = nodeGcm(aes128, nonce12, odd, aad, 16);
      const badTag = Buffer.from(good.tag);
      badTag[0] = (badTag[0] ?? 0) ^ 0x01;
      const decryptWith = (tag: Buffer, additional: Buffer) =>
        kmip.call(
          'Decrypt',
          encryptXml(
            uid,
            good.data,
            parameters,
            bytesXml('IVCounterNonce', nonce12) +
              bytesXml('AuthenticatedEncryptionAdditionalData', additional) +
              bytesXml('AuthenticatedEncryptionTag', tag),
          ),
        );
      // The right tag first, so that the refusals below are about the tag and the AAD, nothing else.
      t.is((await decryptWith(good.tag, aad)).outcome, 'Success/-');
      const wrongTag = await decryptWith(badTag, aad);
      t.is(wrongTag.outcome, 'OperationFailed/CryptographicFailure', wrongTag.xml);
      t.false(wrongTag.has('Data'), 'no unauthenticated plaintext');
      const wrongAad = await decryptWith(good.tag, hex('00'));
      t.is(wrongAad.outcome, 'OperationFailed/CryptographicFailure', wrongAad.xml);
      t.false(wrongAad.has('Data'));
    },
  );

  test.serial(
    `${version}: Encrypt without an IV returns the IV it chose, which node:crypto decrypts with`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(aes256, [encryptDecrypt, activeSinceAnHour]);
      const cbc = enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'PKCS5');
      const first = await kmip.call('Encrypt', encryptXml(uid, odd, cbc));
      const iv = first.bytes('IVCounterNonce');
      t.is(iv.length, 16, 'a CBC IV is one AES block');
      const data = first.bytes('Data');
      t.is(nodeDecrypt('aes-256-cbc', aes256, iv, data, true).toString('hex'), odd.toString('hex'));
      const back = await kmip.call('Decrypt', encryptXml(uid, data, cbc, bytesXml('IVCounterNonce', iv)));
      t.is(back.bytes('Data').toString('hex'), odd.toString('hex'));
      const second = await kmip.call('Encrypt', encryptXml(uid, odd, cbc));
      t.not(second.bytes('IVCounterNonce').toString('hex'), iv.toString('hex'), 'a fresh IV each time');

      // GCM as well: a 96-bit IV unless IV Length says otherwise, and the tag alongside.
      const gcm = enumXml('BlockCipherMode', 'GCM') + intXml('TagLength', 16);
      const sealed = await kmip.call('Encrypt', encryptXml(uid, odd, gcm));
      const nonce = sealed.bytes('IVCounterNonce');
      t.is(nonce.length, 12);
      const expected = nodeGcm(aes256, nonce, odd, new Uint8Array(0), 16);
      t.is(sealed.bytes('Data').toString('hex'), expected.data.toString('hex'));
      t.is(sealed.bytes('AuthenticatedEncryptionTag').toString('hex'), expected.tag.toString('hex'));
    },
  );

  test.serial(`${version}: Decrypt in CBC without an IV is Invalid Message`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(aes256, [encryptDecrypt, activeSinceAnHour]);
    const cbc = enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'PKCS5');
    const data = nodeEncrypt('aes-256-cbc', aes256, iv16, odd, true);
    const answer = await kmip.call('Decrypt', encryptXml(uid, data, cbc));
    t.is(answer.outcome, 'OperationFailed/InvalidMessage', answer.xml);
    t.false(answer.has('Data'));
  });

  test.serial(
    `${version}: Cryptographic Parameters come from the key's attribute when the request has none`,
    async (t) => {
      const kmip = client(version);
      const keyParameters = parametersAttr(
        enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'PKCS5'),
      );
      const uid = await kmip.registerSymmetric(aes256, [encryptDecrypt, activeSinceAnHour, keyParameters]);
      const ivXml = bytesXml('IVCounterNonce', iv16);
      const cbcPkcs5 = nodeEncrypt('aes-256-cbc', aes256, iv16, odd, true);
      const encrypted = await kmip.call('Encrypt', encryptXml(uid, odd, undefined, ivXml));
      t.is(encrypted.bytes('Data').toString('hex'), cbcPkcs5.toString('hex'), "the key's CBC with PKCS5");
      const decrypted = await kmip.call('Decrypt', encryptXml(uid, cbcPkcs5, undefined, ivXml));
      t.is(decrypted.bytes('Data').toString('hex'), odd.toString('hex'));

      // The request's parameters win over the key's.
      const ecbNone = enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', 'None');
      const overridden = await kmip.call('Encrypt', encryptXml(uid, twoBlocks, ecbNone));
      t.is(
        overridden.bytes('Data').toString('hex'),
        nodeEncrypt('aes-256-ecb', aes256, null, twoBlocks, false).toString('hex'),
        "the request's ECB without padding",
      );
      // Field by field (parameters.ts): a request naming only the mode keeps the key's padding.
      const modeOnly = await kmip.call('Encrypt', encryptXml(uid, odd, enumXml('BlockCipherMode', 'ECB')));
      t.is(
        modeOnly.bytes('Data').toString('hex'),
        nodeEncrypt('aes-256-ecb', aes256, null, odd, true).toString('hex'),
        "the request's ECB with the key's PKCS5",
      );
    },
  );

  test.serial(
    `${version}: of several Cryptographic Parameters on the key, the first one is used`,
    async (t) => {
      // KMIP 1.4 §4.29: "the Cryptographic Parameters ... with the lowest Attribute Index SHALL be used".
      const kmip = client(version);
      const first = parametersAttr(enumXml('BlockCipherMode', 'CBC') + enumXml('PaddingMethod', 'PKCS5'));
      const second = parametersAttr(enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', 'None'));
      const uid = await kmip.registerSymmetric(aes256, [encryptDecrypt, activeSinceAnHour, first, second]);
      const encrypted = await kmip.call(
        'Encrypt',
        encryptXml(uid, twoBlocks, undefined, bytesXml('IVCounterNonce', iv16)),
      );
      t.is(
        encrypted.bytes('Data').toString('hex'),
        nodeEncrypt('aes-256-cbc', aes256, iv16, twoBlocks, true).toString('hex'),
      );
    },
  );

  test.serial(`${version}: no Block Cipher Mode in the request or on the key is Invalid Field`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(aes128, [encryptDecrypt, activeSinceAnHour]);
    const bare = await kmip.call('Encrypt', encryptXml(uid, twoBlocks));
    t.is(bare.outcome, 'OperationFailed/InvalidField', bare.xml);
    t.regex(bare.message ?? '', /Block Cipher Mode/);
    const paddingOnly = await kmip.call(
      'Encrypt',
      encryptXml(uid, twoBlocks, enumXml('PaddingMethod', 'None')),
    );
    t.is(paddingOnly.outcome, 'OperationFailed/InvalidField', paddingOnly.xml);
    const decrypt = await kmip.call('Decrypt', encryptXml(uid, twoBlocks));
    t.is(decrypt.outcome, 'OperationFailed/InvalidField', decrypt.xml);
  });

  test.serial(`${version}: a key registered Pre-Active and then Activated encrypts`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(aes128, [encryptDecrypt]);
    const ecb = enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', 'None');
    t.is((await kmip.call('Encrypt', encryptXml(uid, twoBlocks, ecb))).status, 'OperationFailed');
    await kmip.activate(uid);
    const encrypted = await kmip.call('Encrypt', encryptXml(uid, twoBlocks, ecb));
    t.is(
      encrypted.bytes('Data').toString('hex'),
      nodeEncrypt('aes-128-ecb', aes128, null, twoBlocks, false).toString('hex'),
    );
  });

  test.serial(
    `${version}: MAC with HMAC-SHA256 equals node's createHmac, 32- and 16-byte keys`,
    async (t) => {
      const kmip = client(version);
      const message = Buffer.from('The quick brown fox jumps over the lazy dog', 'utf8');
      for (const key of [hex('0b'.repeat(32)), hex('4a656665000000000000000000000001')]) {
        const uid = await kmip.registerSymmetric(
          key,
          [usage('MACGenerate MACVerify'), activeSinceAnHour],
          'HMAC_SHA256',
        );
        const answer = await kmip.call('MAC', `${uidXml(uid)}${bytesXml('Data', message)}`);
        const expected = createHmac('sha256', key).update(message).digest();
        t.is(answer.bytes('MACData').toString('hex'), expected.toString('hex'), `${key.length}-byte key`);
        t.is(answer.value('UniqueIdentifier'), uid);
        // Named in the request instead of taken from the key: the same MAC.
        const named = await kmip.call(
          'MAC',
          `${uidXml(uid)}${parametersXml(enumXml('CryptographicAlgorithm', 'HMAC_SHA256'))}${bytesXml('Data', message)}`,
        );
        t.is(named.bytes('MACData').toString('hex'), expected.toString('hex'));
      }
    },
  );

  test.serial(`${version}: MAC with HMAC-SHA512 and a short key equals node's createHmac`, async (t) => {
    const kmip = client(version);
    const key = hex('00112233445566778899aabbccddeeff');
    const uid = await kmip.registerSymmetric(
      key,
      [usage('MACGenerate MACVerify'), activeSinceAnHour],
      'HMAC_SHA512',
    );
    const answer = await kmip.call('MAC', `${uidXml(uid)}${bytesXml('Data', odd)}`);
    t.is(answer.bytes('MACData').toString('hex'), createHmac('sha512', key).update(odd).digest('hex'));
  });

  test.serial(
    `${version}: MAC Verify answers Valid for node's HMAC and Invalid for a changed one`,
    async (t) => {
      const kmip = client(version);
      const key = hex('0b'.repeat(32));
      const uid = await kmip.registerSymmetric(
        key,
        [usage('MACGenerate MACVerify'), activeSinceAnHour],
        'HMAC_SHA256',
      );
      const mac = createHmac('sha256', key).update(odd).digest();
      const verify = (data: Uint8Array, macData: Uint8Array) =>
        kmip.call('MACVerify', `${uidXml(uid)}${bytesXml('Data', data)}${bytesXml('MACData', macData)}`);
      const valid = await verify(odd, mac);
      t.is(valid.outcome, 'Success/-', valid.xml);
      t.is(valid.value('ValidityIndicator'), 'Valid');
      const changed = Buffer.from(mac);
      changed[31] = (changed[31] ?? 0) ^ 0x80;
      t.is((await verify(odd, changed)).value('ValidityIndicator'), 'Invalid', 'a changed MAC');
      t.is((await verify(twoBlocks, mac)).value('ValidityIndicator'), 'Invalid', 'other data');
    },
  );

  test.serial(`${version}: Hash with SHA-256 and SHA-512 equals node's createHash`, async (t) => {
    const kmip = client(version);
    for (const [name, node] of [
      ['SHA_256', 'sha256'],
      ['SHA_512', 'sha512'],
      ['SHA_1', 'sha1'],
    ] as const) {
      const answer = await kmip.call(
        'Hash',
        `${parametersXml(enumXml('HashingAlgorithm', name))}${bytesXml('Data', odd)}`,
      );
      t.is(answer.bytes('Data').toString('hex'), createHash(node).update(odd).digest('hex'), name);
    }
    const missing = await kmip.call('Hash', bytesXml('Data', odd));
    t.is(missing.outcome, 'OperationFailed/InvalidField', 'no Hashing Algorithm: no guess');
  });

  test.serial(`${version}: RNG Retrieve answers Data Length random bytes, fresh each time`, async (t) => {
    const kmip = client(version);
    const first = (await kmip.call('RNGRetrieve', intXml('DataLength', 32))).bytes('Data');
    const second = (await kmip.call('RNGRetrieve', intXml('DataLength', 32))).bytes('Data');
    t.is(first.length, 32);
    t.is(second.length, 32);
    t.not(first.toString('hex'), second.toString('hex'));
    t.is((await kmip.call('RNGRetrieve', intXml('DataLength', 1))).bytes('Data').length, 1);
    const none = await kmip.call('RNGRetrieve', intXml('DataLength', 0));
    t.is(none.outcome, 'OperationFailed/InvalidField', none.xml);
  });

  test.serial(`${version}: RNG Seed answers the Data Length the token accepted`, async (t) => {
    const kmip = client(version);
    const answer = await kmip.call('RNGSeed', bytesXml('Data', hex('0123456789abcdef0123456789abcdef')));
    t.is(answer.outcome, 'Success/-', answer.xml);
    // SoftHSM2 takes seeds (C_SeedRandom), so all 16 bytes are accepted.
    t.is(answer.value('DataLength'), '16');
  });
}
