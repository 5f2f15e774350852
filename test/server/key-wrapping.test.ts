/**
 * Get with a Key Wrapping Specification over real mutual TLS, in KMIP 1.4 and 2.1 (1.4 §2.1.5-§2.1.6, §4.11,
 * §11.12): the wrapped Key Value is unwrapped here with node:crypto (RFC 3394, RFC 5649, RSA-OAEP) and compared byte
 * for byte with the Key Value built here by hand; every refusal of 1.4 §11.12 that applies is checked by its reason.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  generateKeyPairSync,
  privateDecrypt,
} from 'node:crypto';
import test from 'ava';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  bytesXml,
  enumXml,
  parametersAttr,
  parametersXml,
  uidXml,
  usage,
  v2,
  versions,
  type AttributeSpec,
  type VersionedClient,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const wrappingKey = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const targetKey = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const kw = parametersAttr(enumXml('BlockCipherMode', 'NISTKeyWrap'));
const kwp = parametersAttr(enumXml('BlockCipherMode', 'AESKeyWrapPadding'));

/** One TTLV item written by hand (KMIP 1.4 §9.1.1): tag, type, length, value padded to 8 bytes. */
function item(tag: number, type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUIntBE(tag, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt32BE(value.length, 4);
  return Buffer.concat([header, value, Buffer.alloc((8 - (value.length % 8)) % 8)]);
}
/** Key Value { Key Material (Byte String) } as TTLV: what Encoding Option TTLV (the default) wraps. */
const keyValueTtlv = (material: Buffer): Buffer => item(0x420045, 0x01, item(0x420043, 0x08, material));

function unwrap(mode: 'wrap' | 'wrap-pad', key: Buffer, wrapped: Buffer): Buffer {
  const iv = Buffer.from(mode === 'wrap' ? 'a6a6a6a6a6a6a6a6' : 'a65959a6', 'hex');
  const decipher = createDecipheriv(`id-aes${String(key.length * 8)}-${mode}`, key, iv);
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

/** A Key Wrapping Specification with Wrapping Method Encrypt (or the one named) under `uid`. */
function wrappingXml(
  uid: string,
  options: {
    mode?: string;
    /** Cryptographic Parameters fields to give, as KMIP XML (instead of a mode alone). */
    parameters?: string;
    method?: string;
    encoding?: string;
    names?: readonly string[];
  } = {},
): string {
  const fields =
    options.parameters ?? (options.mode === undefined ? undefined : enumXml('BlockCipherMode', options.mode));
  const parameters = fields === undefined ? '' : parametersXml(fields);
  return (
    `<KeyWrappingSpecification>${enumXml('WrappingMethod', options.method ?? 'Encrypt')}` +
    `<EncryptionKeyInformation>${uidXml(uid)}${parameters}</EncryptionKeyInformation>` +
    (options.names ?? []).map((n) => `<AttributeName type="TextString" value="${n}"/>`).join('') +
    (options.encoding === undefined ? '' : enumXml('EncodingOption', options.encoding)) +
    '</KeyWrappingSpecification>'
  );
}

async function wrappingAesKey(kmip: VersionedClient, parameters = [kw]): Promise<string> {
  return kmip.registerSymmetric(wrappingKey, [usage('WrapKey Encrypt'), activeSinceAnHour, ...parameters]);
}

for (const version of versions) {
  test.serial(
    `${version}: Get wrapped with NIST Key Wrap gives the TTLV Key Value, and Key Wrapping Data`,
    async (t) => {
      const kmip = client(version);
      const wrapper = await wrappingAesKey(kmip);
      const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
      const answer = await kmip.must('Get', uidXml(target) + wrappingXml(wrapper, { mode: 'NISTKeyWrap' }));
      const wrapped = answer.bytes('KeyValue');
      t.deepEqual(unwrap('wrap', wrappingKey, wrapped), keyValueTtlv(targetKey));
      t.false(answer.has('KeyMaterial'), 'no Key Material in clear');
      t.regex(
        answer.xml,
        new RegExp(
          `<KeyWrappingData>\\s*<WrappingMethod type="Enumeration" value="Encrypt"/>\\s*<EncryptionKeyInformation>` +
            `\\s*<UniqueIdentifier type="TextString" value="${wrapper}"/>`,
        ),
      );
      // Without Cryptographic Parameters in the request, the key's first instance is used (§2.1.6).
      const implicit = await kmip.must('Get', uidXml(target) + wrappingXml(wrapper));
      t.deepEqual(unwrap('wrap', wrappingKey, implicit.bytes('KeyValue')), keyValueTtlv(targetKey));
    },
  );

  test.serial(
    `${version}: No Encoding wraps the key bytes alone; AES Key Wrap Padding; a generated key`,
    async (t) => {
      const kmip = client(version);
      const wrapper = await wrappingAesKey(kmip, [kw, kwp]);
      const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
      const bare = await kmip.must(
        'Get',
        uidXml(target) + wrappingXml(wrapper, { mode: 'NISTKeyWrap', encoding: 'NoEncoding' }),
      );
      t.deepEqual(unwrap('wrap', wrappingKey, bare.bytes('KeyValue')), targetKey);
      t.regex(bare.xml, /<EncodingOption type="Enumeration" value="NoEncoding"\/>/);
      const padded = await kmip.must(
        'Get',
        uidXml(target) + wrappingXml(wrapper, { mode: 'AESKeyWrapPadding' }),
      );
      t.deepEqual(unwrap('wrap-pad', wrappingKey, padded.bytes('KeyValue')), keyValueTtlv(targetKey));
      // A key generated in the token: what the wrap holds is what a plain Get serves.
      const created = await kmip.must(
        'Create',
        `${enumXml('ObjectType', 'SymmetricKey')}${
          v2(version)
            ? `<Attributes>${enumXml('CryptographicAlgorithm', 'AES')}<CryptographicLength type="Integer" value="192"/>` +
              `<CryptographicUsageMask type="Integer" value="Encrypt"/></Attributes>`
            : `<TemplateAttribute><Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/>` +
              `${enumXml('AttributeValue', 'AES')}</Attribute><Attribute><AttributeName type="TextString" ` +
              `value="Cryptographic Length"/><AttributeValue type="Integer" value="192"/></Attribute><Attribute>` +
              `<AttributeName type="TextString" value="Cryptographic Usage Mask"/><AttributeValue type="Integer" ` +
              `value="Encrypt"/></Attribute></TemplateAttribute>`
        }`,
      );
      const uid = created.value('UniqueIdentifier') ?? '';
      const generated = await kmip.must(
        'Get',
        uidXml(uid) + wrappingXml(wrapper, { encoding: 'NoEncoding' }),
      );
      const bytes = unwrap('wrap', wrappingKey, generated.bytes('KeyValue'));
      t.is(bytes.length, 24);
      t.deepEqual(bytes, await kmip.keyMaterial(uid));
    },
  );

  test.serial(`${version}: named attributes are wrapped inside the Key Value`, async (t) => {
    const kmip = client(version);
    const wrapper = await wrappingAesKey(kmip);
    const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
    const answer = await kmip.must(
      'Get',
      uidXml(target) + wrappingXml(wrapper, { names: ['Cryptographic Algorithm'] }),
    );
    const inner = unwrap('wrap', wrappingKey, answer.bytes('KeyValue'));
    const material = item(0x420043, 0x08, targetKey);
    // Cryptographic Algorithm AES (3): 1.x as Attribute { Attribute Name, Attribute Value }, 2.x inside Attributes.
    const algorithm = v2(version)
      ? item(0x420125, 0x01, item(0x420028, 0x05, Buffer.from('00000003', 'hex')))
      : item(
          0x420008,
          0x01,
          Buffer.concat([
            item(0x42000a, 0x07, Buffer.from('Cryptographic Algorithm')),
            item(0x42000b, 0x05, Buffer.from('00000003', 'hex')),
          ]),
        );
    t.deepEqual(inner, item(0x420045, 0x01, Buffer.concat([material, algorithm])));
    const refused = await kmip.call(
      'Get',
      uidXml(target) + wrappingXml(wrapper, { names: ['Cryptographic Algorithm'], encoding: 'NoEncoding' }),
    );
    t.is(refused.outcome, 'OperationFailed/EncodingOptionError', refused.xml);
  });

  test.serial(`${version}: an RSA public key wraps with OAEP; the private key unwraps it`, async (t) => {
    const kmip = client(version);
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
    // The mask generator's hash is named: KMIP 1.4 §3.6 defaults it to SHA-1, which node:crypto cannot decode.
    const oaep = parametersAttr(
      enumXml('PaddingMethod', 'OAEP') +
        enumXml('HashingAlgorithm', 'SHA_256') +
        enumXml('MaskGenerator', 'MGF1') +
        enumXml('MaskGeneratorHashingAlgorithm', 'SHA_256'),
    );
    const wrapper = await kmip.registerAsymmetric('PublicKey', 'X_509', spki, 'RSA', 2048, [
      usage('WrapKey Encrypt'),
      activeSinceAnHour,
      oaep,
    ]);
    const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
    const answer = await kmip.must('Get', uidXml(target) + wrappingXml(wrapper));
    const inner = privateDecrypt(
      { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      answer.bytes('KeyValue'),
    );
    t.deepEqual(inner, keyValueTtlv(targetKey));
  });

  test.serial(
    `${version}: the instance the request matches is used alone, without fields of the first`,
    async (t) => {
      const kmip = client(version);
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
      // First instance: OAEP with SHA-256 throughout. Second: OAEP with MGF1 over SHA-1 and no Hashing Algorithm,
      // so OAEP's own hash is SHA-1 (KMIP 1.4 §3.6). Taking the first instance's SHA-256 into the second would give
      // OAEP SHA-256 with MGF1 SHA-1, which the SHA-1 decryption below refuses.
      const sha256 = parametersAttr(
        enumXml('PaddingMethod', 'OAEP') +
          enumXml('HashingAlgorithm', 'SHA_256') +
          enumXml('MaskGenerator', 'MGF1') +
          enumXml('MaskGeneratorHashingAlgorithm', 'SHA_256'),
      );
      const sha1 = parametersAttr(
        enumXml('PaddingMethod', 'OAEP') +
          enumXml('MaskGenerator', 'MGF1') +
          enumXml('MaskGeneratorHashingAlgorithm', 'SHA_1'),
      );
      const wrapper = await kmip.registerAsymmetric('PublicKey', 'X_509', spki, 'RSA', 2048, [
        usage('WrapKey Encrypt'),
        activeSinceAnHour,
        sha256,
        sha1,
      ]);
      const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
      const answer = await kmip.must(
        'Get',
        uidXml(target) +
          wrappingXml(wrapper, { parameters: enumXml('MaskGeneratorHashingAlgorithm', 'SHA_1') }),
      );
      const inner = privateDecrypt(
        { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
        answer.bytes('KeyValue'),
      );
      t.deepEqual(inner, keyValueTtlv(targetKey));
    },
  );

  test.serial(`${version}: a Sensitive key is served wrapped, never in clear`, async (t) => {
    const kmip = client(version);
    const wrapper = await wrappingAesKey(kmip);
    const target = await kmip.registerSymmetric(targetKey, [
      usage('Encrypt Decrypt'),
      attr('Sensitive', 'Boolean', 'true'),
    ]);
    const clear = await kmip.call('Get', uidXml(target));
    t.is(clear.outcome, 'OperationFailed/Sensitive', clear.xml);
    const wrapped = await kmip.must('Get', uidXml(target) + wrappingXml(wrapper));
    t.deepEqual(unwrap('wrap', wrappingKey, wrapped.bytes('KeyValue')), keyValueTtlv(targetKey));
  });

  test.serial(`${version}: refusals name their reason (KMIP 1.4 §11.12)`, async (t) => {
    const kmip = client(version);
    const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
    const get = (spec: string): Promise<string> =>
      kmip.call('Get', uidXml(target) + spec).then((a) => a.outcome);
    // 2.1 §11 names this case: Wrapping Object Not Found (1.4: Item Not Found).
    const notFound = v2(version) ? 'OperationFailed/WrappingObjectNotFound' : 'OperationFailed/ItemNotFound';
    t.is(await get(wrappingXml('no-such-key')), notFound, 'a wrapping key that does not exist');
    const secret = await kmip.registerSecretData(Buffer.from('password'), [usage('WrapKey')]);
    t.is(
      await get(wrappingXml(secret)),
      v2(version) ? 'OperationFailed/InvalidField' : 'OperationFailed/IllegalOperation',
      'Secret Data is not a key',
    );
    const noWrapUsage = await kmip.registerSymmetric(wrappingKey, [usage('Encrypt'), activeSinceAnHour, kw]);
    t.is(
      await get(wrappingXml(noWrapUsage)),
      v2(version) ? 'OperationFailed/IncompatibleCryptographicUsageMask' : 'OperationFailed/PermissionDenied',
      'a key whose usage mask lacks Wrap Key',
    );
    const preActive = await kmip.registerSymmetric(wrappingKey, [usage('WrapKey'), kw]);
    t.is(
      await get(wrappingXml(preActive)),
      v2(version) ? 'OperationFailed/WrongKeyLifecycleState' : 'OperationFailed/PermissionDenied',
      'a Pre-Active wrapping key',
    );
    const noParameters = await kmip.registerSymmetric(wrappingKey, [usage('WrapKey'), activeSinceAnHour]);
    t.is(
      await get(wrappingXml(noParameters)),
      'OperationFailed/ItemNotFound',
      'a key with no Cryptographic Parameters',
    );
    const wrapper = await wrappingAesKey(kmip);
    t.is(
      await get(wrappingXml(wrapper, { mode: 'AESKeyWrapPadding' })),
      'OperationFailed/ItemNotFound',
      'parameters that match no instance of the key',
    );
    const cbc = await kmip.registerSymmetric(wrappingKey, [
      usage('WrapKey'),
      activeSinceAnHour,
      parametersAttr(enumXml('BlockCipherMode', 'CBC')),
    ]);
    t.is(await get(wrappingXml(cbc)), 'OperationFailed/FeatureNotSupported', 'a mode that is not a key wrap');
    t.is(
      await get(wrappingXml(wrapper, { method: 'MACSign' })),
      'OperationFailed/FeatureNotSupported',
      'a method other than Encrypt',
    );
    // None of the refusals left the target unreadable.
    t.deepEqual(await kmip.keyMaterial(target), targetKey);
  });
}

test.serial('2.1: the sealed bytes of a wrapped Get never appear in the answer in clear', async (t) => {
  const kmip = client('2.1');
  const wrapper = await wrappingAesKey(kmip);
  const target = await kmip.registerSymmetric(targetKey, [usage('Encrypt Decrypt')]);
  const answer = await kmip.must('Get', uidXml(target) + wrappingXml(wrapper, { encoding: 'NoEncoding' }));
  t.false(answer.xml.includes(targetKey.toString('hex')));
  t.false(answer.xml.includes(bytesXml('KeyMaterial', targetKey)));
});

// ---- keys registered wrapped (KMIP 1.4 §2.1.5 Key Wrapping Data; §4.11 Key Wrap Type; TC-WRAP-2/3) ------------

function wrapWithNode(mode: 'wrap' | 'wrap-pad', key: Buffer, data: Buffer): Buffer {
  const iv = Buffer.from(mode === 'wrap' ? 'a6a6a6a6a6a6a6a6' : 'a65959a6', 'hex');
  const cipher = createCipheriv(`id-aes${String(key.length * 8)}-${mode}`, key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * Registers a Symmetric Key as a client that wrapped it itself: the wrapped bytes as the Key Value (a Byte String,
 * KMIP 1.4 §2.1.4, or as the 1.4 vectors write it, the Key Material of a Key Value structure) and Key Wrapping Data
 * naming `kek`.
 */
async function registerWrapped(
  kmip: VersionedClient,
  wrapped: Buffer,
  kek: string,
  options: { mode: string; encoding?: string; inStructure?: boolean; attributes?: readonly AttributeSpec[] },
): Promise<string> {
  const value = options.inStructure
    ? `<KeyValue>${bytesXml('KeyMaterial', wrapped)}</KeyValue>`
    : bytesXml('KeyValue', wrapped);
  const wrappingData =
    `<KeyWrappingData>${enumXml('WrappingMethod', 'Encrypt')}` +
    `<EncryptionKeyInformation>${uidXml(kek)}${parametersXml(enumXml('BlockCipherMode', options.mode))}` +
    '</EncryptionKeyInformation>' +
    (options.encoding === undefined ? '' : enumXml('EncodingOption', options.encoding)) +
    '</KeyWrappingData>';
  const answer = await kmip.must(
    'Register',
    enumXml('ObjectType', 'SymmetricKey') +
      attributesXml(kmip.version, options.attributes ?? [usage('Encrypt Decrypt')]) +
      `<SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}${value}` +
      `${enumXml('CryptographicAlgorithm', 'AES')}<CryptographicLength type="Integer" value="128"/>` +
      `${wrappingData}</KeyBlock></SymmetricKey>`,
  );
  const uid = answer.value('UniqueIdentifier');
  if (uid === undefined) throw new Error('Register answered no Unique Identifier');
  return uid;
}

const notWrapped = enumXml('KeyWrapType', 'NotWrapped');

for (const version of versions) {
  test.serial(
    `${version}: a key registered wrapped is served as registered, in clear for Not Wrapped, and wrapped again`,
    async (t) => {
      const kmip = client(version);
      // The key the client wrapped with may unwrap (Unwrap Key; TC-WRAP-2/3's has Wrap Key alone, see below).
      const kek = await kmip.registerSymmetric(wrappingKey, [
        usage('WrapKey UnwrapKey'),
        activeSinceAnHour,
        kw,
      ]);
      const wrapped = wrapWithNode('wrap', wrappingKey, targetKey);
      const uid = await registerWrapped(kmip, wrapped, kek, {
        mode: 'NISTKeyWrap',
        encoding: 'NoEncoding',
        inStructure: version === '1.4',
      });

      for (const keyWrapType of ['', enumXml('KeyWrapType', 'AsRegistered')]) {
        const asRegistered = await kmip.must('Get', uidXml(uid) + keyWrapType);
        const served = version === '1.4' ? asRegistered.bytes('KeyMaterial') : asRegistered.bytes('KeyValue');
        t.deepEqual(served, wrapped, 'as registered, byte for byte');
        t.true(asRegistered.has('KeyWrappingData'));
      }

      const clear = await kmip.must('Get', uidXml(uid) + notWrapped);
      t.deepEqual(clear.bytes('KeyMaterial'), targetKey, 'unwrapped inside the token');
      t.false(clear.has('KeyWrappingData'));
      t.deepEqual((await kmip.must('Export', uidXml(uid) + notWrapped)).bytes('KeyMaterial'), targetKey);

      // Wrapped again under another key (AES Key Wrap Padding, TTLV encoding): unwrapped here to the clear Key Value.
      const otherBytes = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
      const other = await kmip.registerSymmetric(otherBytes, [usage('WrapKey'), activeSinceAnHour, kwp]);
      const rewrapped = await kmip.must('Get', uidXml(uid) + wrappingXml(other));
      t.deepEqual(unwrap('wrap-pad', otherBytes, rewrapped.bytes('KeyValue')), keyValueTtlv(targetKey));
      t.is(rewrapped.value('UniqueIdentifier', 1), other, 'the Key Wrapping Data names the new wrapping key');
    },
  );

  test.serial(
    `${version}: a TTLV-encoded Key Value wrapped with padding unwraps to that Key Value`,
    async (t) => {
      const kmip = client(version);
      const kek = await kmip.registerSymmetric(wrappingKey, [usage('UnwrapKey'), activeSinceAnHour, kwp]);
      const uid = await registerWrapped(
        kmip,
        wrapWithNode('wrap-pad', wrappingKey, keyValueTtlv(targetKey)),
        kek,
        {
          mode: 'AESKeyWrapPadding',
        },
      );
      const clear = await kmip.must('Get', uidXml(uid) + notWrapped);
      t.deepEqual(clear.bytes('KeyMaterial'), targetKey);
      // The same bytes said to be No Encoding are served as the bare unwrapped bytes: the TTLV, not the key.
      const bare = await registerWrapped(
        kmip,
        wrapWithNode('wrap-pad', wrappingKey, keyValueTtlv(targetKey)),
        kek,
        {
          mode: 'AESKeyWrapPadding',
          encoding: 'NoEncoding',
        },
      );
      t.deepEqual(
        (await kmip.must('Get', uidXml(bare) + notWrapped)).bytes('KeyMaterial'),
        keyValueTtlv(targetKey),
      );
    },
  );

  test.serial(`${version}: unwrapping refusals name their reason and change nothing`, async (t) => {
    const kmip = client(version);
    const kek = await kmip.registerSymmetric(wrappingKey, [
      usage('WrapKey UnwrapKey'),
      activeSinceAnHour,
      kw,
    ]);
    const wrapped = wrapWithNode('wrap', wrappingKey, targetKey);
    const getClear = async (uid: string): Promise<string> =>
      (await kmip.call('Get', uidXml(uid) + notWrapped)).outcome;

    const tamperedBytes = Buffer.from(wrapped);
    tamperedBytes[3] = (tamperedBytes[3] ?? 0) ^ 0x80;
    const tampered = await registerWrapped(kmip, tamperedBytes, kek, {
      mode: 'NISTKeyWrap',
      encoding: 'NoEncoding',
    });
    t.is(
      await getClear(tampered),
      'OperationFailed/CryptographicFailure',
      'bytes that fail the integrity check',
    );
    t.deepEqual(
      (await kmip.must('Get', uidXml(tampered))).bytes('KeyValue'),
      tamperedBytes,
      'still as registered',
    );

    const orphan = await registerWrapped(kmip, wrapped, 'no-such-kek', {
      mode: 'NISTKeyWrap',
      encoding: 'NoEncoding',
    });
    t.is(
      await getClear(orphan),
      v2(version) ? 'OperationFailed/WrappingObjectNotFound' : 'OperationFailed/ItemNotFound',
      'a wrapping key that does not exist',
    );

    const doomed = await kmip.registerSymmetric(wrappingKey, [usage('UnwrapKey'), kw]);
    const underDoomed = await registerWrapped(kmip, wrapped, doomed, {
      mode: 'NISTKeyWrap',
      encoding: 'NoEncoding',
    });
    await kmip.must('Destroy', uidXml(doomed));
    t.is(
      await getClear(underDoomed),
      v2(version) ? 'OperationFailed/WrappingObjectDestroyed' : 'OperationFailed/PermissionDenied',
      'a wrapping key that has been destroyed',
    );

    // A key that may only wrap cannot unwrap: else a Sensitive key, served wrapped under it and registered back,
    // would be served in clear.
    const wrapOnly = await kmip.registerSymmetric(wrappingKey, [
      usage('WrapKey Encrypt'),
      activeSinceAnHour,
      kw,
    ]);
    const secretKey = await kmip.registerSymmetric(targetKey, [
      usage('Encrypt Decrypt'),
      attr('Sensitive', 'Boolean', 'true'),
    ]);
    const servedWrapped = await kmip.must(
      'Get',
      uidXml(secretKey) + wrappingXml(wrapOnly, { encoding: 'NoEncoding' }),
    );
    const registeredBack = await registerWrapped(kmip, servedWrapped.bytes('KeyValue'), wrapOnly, {
      mode: 'NISTKeyWrap',
      encoding: 'NoEncoding',
    });
    const leaked = await kmip.call('Get', uidXml(registeredBack) + notWrapped);
    t.is(
      leaked.outcome,
      v2(version) ? 'OperationFailed/IncompatibleCryptographicUsageMask' : 'OperationFailed/PermissionDenied',
      'a wrapping key without Unwrap Key in its usage mask',
    );
    t.false(leaked.has('KeyMaterial'));

    const sensitive = await registerWrapped(kmip, wrapped, kek, {
      mode: 'NISTKeyWrap',
      encoding: 'NoEncoding',
      attributes: [usage('Encrypt Decrypt'), attr('Sensitive', 'Boolean', 'true')],
    });
    t.is((await kmip.call('Get', uidXml(sensitive))).outcome, 'Success/-', 'a Sensitive key, served wrapped');
    t.is(await getClear(sensitive), 'OperationFailed/Sensitive', 'but never in clear');
  });
}
