/**
 * Import (KMIP 1.4 §4.41, 2.0 §6.1.24, 2.1 §6.1.25) over real mutual TLS, at 1.4, 2.0 and 2.1: an Export's answer is
 * taken back as it is (server-set attributes included) under the identifier the client names; what the request
 * leaves out is set as Register sets it; an existing object is replaced only with Replace Existing (and the token
 * forgets its key), never another principal's; the refusals; the ID placeholder; and the material sealed by the
 * token, never in clear in the data directory.
 */
import { createHash, createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  boolXml,
  bytesXml,
  customAttr,
  ecb,
  enumXml,
  nameAttr,
  parametersAttr,
  structAttr,
  uidXml,
  usage,
  v2,
  VersionedClient,
  type Answer,
  type AttributeSpec,
  type Version,
} from '../support/crypto-client.js';
import { attributesOf, element } from '../support/export-answers.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.0', '2.1'];

/** Every key these tests import: none may be found in clear in the data directory (the last test). */
const importedKeys: Buffer[] = [];
function newKey(): Buffer {
  const key = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
  importedKeys.push(key);
  return key;
}

const symmetricKey = (key: Uint8Array): string =>
  `<SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}<KeyValue>${bytesXml('KeyMaterial', key)}</KeyValue>
   ${enumXml('CryptographicAlgorithm', 'AES')}<CryptographicLength type="Integer" value="${key.length * 8}"/>
   </KeyBlock></SymmetricKey>`;

/** An Import payload in the request's version (1.4 has no Object Type field, Table 253). */
function importPayload(
  version: Version,
  uid: string,
  attributes: string,
  object: string,
  options: { replace?: boolean; objectType?: string; keyWrapType?: string } = {},
): string {
  const objectType = v2(version) ? enumXml('ObjectType', options.objectType ?? 'SymmetricKey') : '';
  const replace = options.replace === undefined ? '' : boolXml('ReplaceExisting', options.replace);
  const wrap = options.keyWrapType === undefined ? '' : enumXml('KeyWrapType', options.keyWrapType);
  return `${uidXml(uid)}${objectType}${replace}${wrap}${attributes}${object}`;
}

/** The attributes as an Import request carries them: the 2.x container, the bare 1.x Attribute structures. */
function importAttributes(version: Version, specs: readonly AttributeSpec[]): string {
  const xml = attributesXml(version, specs);
  return v2(version) ? xml : xml.replace(/^<TemplateAttribute>|<\/TemplateAttribute>$/g, '');
}

const block = Buffer.alloc(16, 0x3c);

async function encryptBlock(kmip: VersionedClient, uid: string): Promise<Buffer> {
  const answer = await kmip.must('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', block)}`);
  return answer.bytes('Data');
}

/** AES-128-ECB of the test block under a key, computed here (node:crypto), not by the server. */
function expectedBlock(key: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]);
}

for (const version of versions) {
  test.serial(
    `${version}: Import takes an Export's answer back as it is, under a new identifier`,
    async (t) => {
      const kmip = client(version);
      const key = newKey();
      const source = await kmip.registerSymmetric(key, [
        usage('Encrypt Decrypt'),
        activeSinceAnHour,
        nameAttr(`import-${version}`),
        customAttr(version, 'origin', 'elsewhere'),
      ]);
      const exported = await kmip.must('Export', uidXml(source));
      const uid = `imported-${randomUUID()}`;
      // The exported attributes name the source; an Import under another identifier takes them without it.
      const imported = await kmip.call(
        'Import',
        importPayload(
          version,
          uid,
          withoutUid(attributesOf(exported, version), source, version),
          element(exported.xml, 'SymmetricKey'),
        ),
      );
      t.is(imported.outcome, 'Success/-', imported.xml);
      t.is(imported.value('UniqueIdentifier'), uid);

      // Every attribute as given, the server's own (State, Initial Date, Last Change Date, Digest, Fresh ...) too.
      const after = attributesOf(await kmip.must('GetAttributes', uidXml(uid)), version);
      t.is(withoutUid(after, uid, version), withoutUid(attributesOf(exported, version), source, version));
      t.deepEqual(await kmip.keyMaterial(uid), key);
      // The token has the key: the imported object encrypts, as the key itself does.
      t.deepEqual(await encryptBlock(kmip, uid), expectedBlock(key));
      const located = await kmip.must('Locate', importAttributes(version, [nameAttr(`import-${version}`)]));
      t.true(located.xml.includes(uid), 'Locate finds the imported object by its Name');
    },
  );
}

/** Attributes as written, without the Unique Identifier attribute. */
function withoutUid(attributes: string, uid: string, version: Version): string {
  const uidAttribute = v2(version)
    ? `<UniqueIdentifier type="TextString" value="${uid}"/>`
    : new RegExp(
        `<Attribute>\\s*<AttributeName type="TextString" value="Unique Identifier"/>\\s*` +
          `<AttributeValue type="TextString" value="${uid}"/>\\s*</Attribute>`,
      );
  const out = attributes.replace(uidAttribute, '');
  if (out === attributes) throw new Error(`no Unique Identifier ${uid} in\n${attributes}`);
  return out.replace(/\n\s*\n/g, '\n');
}

for (const version of versions) {
  test.serial(`${version}: Import replaces an existing object only with Replace Existing`, async (t) => {
    const kmip = client(version);
    const first = newKey();
    const uid = await kmip.registerSymmetric(first, [
      usage('Encrypt'),
      activeSinceAnHour,
      nameAttr(`old-${version}`),
    ]);
    // The token now holds the first key for this identifier.
    t.deepEqual(await encryptBlock(kmip, uid), expectedBlock(first));
    const second = newKey();
    const attributes = importAttributes(version, [usage('Encrypt'), activeSinceAnHour]);
    for (const replace of [undefined, false]) {
      const refused = await kmip.call(
        'Import',
        importPayload(
          version,
          uid,
          attributes,
          symmetricKey(second),
          replace === undefined ? {} : { replace },
        ),
      );
      t.is(refused.outcome, 'OperationFailed/ObjectAlreadyExists', `Replace Existing ${String(replace)}`);
    }
    t.deepEqual(await kmip.keyMaterial(uid), first, 'a refused Import changes nothing');

    const replaced = await kmip.call(
      'Import',
      importPayload(version, uid, attributes, symmetricKey(second), { replace: true }),
    );
    t.is(replaced.outcome, 'Success/-', replaced.xml);
    t.deepEqual(await kmip.keyMaterial(uid), second);
    t.deepEqual(await encryptBlock(kmip, uid), expectedBlock(second), 'the token forgot the first key');
    // What the request left out is set as Register sets it; nothing of the replaced object remains.
    const got = await kmip.must('GetAttributes', uidXml(uid));
    const written = attributesOf(got, version);
    t.regex(written, /value="Active"/);
    t.regex(written, /value="SymmetricKey"/);
    t.true(written.includes(createHash('sha256').update(second).digest('hex')), 'the Digest of the new key');
    t.false(written.includes(`old-${version}`), 'the replaced Name is gone');
    const located = await kmip.must('Locate', importAttributes(version, [nameAttr(`old-${version}`)]));
    t.false(located.xml.includes(uid), 'and Locate no longer finds it by that Name');
  });

  test.serial(`${version}: Import refusals`, async (t) => {
    const kmip = client(version);
    const key = newKey();
    const fresh = (): string => `refused-${randomUUID()}`;
    const outcome = async (uid: string, specs: readonly AttributeSpec[], options = {}): Promise<string> =>
      (
        await kmip.call(
          'Import',
          importPayload(version, uid, importAttributes(version, specs), symmetricKey(key), options),
        )
      ).outcome;
    const invalidValue = v2(version) ? 'InvalidAttributeValue' : 'InvalidField';
    const digest = (hex: string): AttributeSpec =>
      structAttr(
        'Digest',
        `${enumXml('HashingAlgorithm', 'SHA_256')}<DigestValue type="ByteString" value="${hex}"/>${enumXml('KeyFormatType', 'Raw')}`,
      );
    const rightDigest = createHash('sha256').update(key).digest('hex');
    t.is(
      await outcome(fresh(), [digest('00'.repeat(32))]),
      `OperationFailed/${invalidValue}`,
      'a false Digest',
    );
    t.is(
      await outcome(fresh(), [attr('UniqueIdentifier', 'TextString', 'another')]),
      `OperationFailed/${invalidValue}`,
    );
    t.is(
      await outcome(fresh(), [attr('State', 'Enumeration', 'Destroyed')]),
      `OperationFailed/${invalidValue}`,
    );
    t.is(
      await outcome(fresh(), [usage('Encrypt'), usage('Decrypt')]),
      `OperationFailed/${v2(version) ? 'AttributeSingleValued' : 'IndexOutOfBounds'}`,
    );
    t.is(await outcome('', [usage('Encrypt')]), 'OperationFailed/InvalidField');
    // The refusals stored nothing; the same Import with a true Digest and server-set attributes succeeds.
    const uid = fresh();
    t.is(
      await outcome(uid, [
        digest(rightDigest),
        attr('State', 'Enumeration', 'Deactivated'),
        attr('InitialDate', 'DateTime', '2001-01-01T00:00:00Z'),
      ]),
      'Success/-',
    );
    const written = attributesOf(await kmip.must('GetAttributes', uidXml(uid)), version);
    t.regex(written, /value="Deactivated"/);
    t.regex(written, /value="2001-01-01T00:00:00\+00:00"/);
    t.is((written.match(/<Digest>|value="Digest"/g) ?? []).length, 1, 'the Digest given, not a second one');

    // Wrapped material: stored as provided, unless the client asks for it unwrapped.
    const wrapped = `<SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}
      <KeyValue type="ByteString" value="${'ab'.repeat(24)}"/>
      ${enumXml('CryptographicAlgorithm', 'AES')}<CryptographicLength type="Integer" value="128"/>
      <KeyWrappingData>${enumXml('WrappingMethod', 'Encrypt')}
        <EncryptionKeyInformation>${uidXml('some-kek')}</EncryptionKeyInformation></KeyWrappingData>
      </KeyBlock></SymmetricKey>`;
    const importWrapped = (target: string, keyWrapType: string): Promise<Answer> =>
      kmip.call(
        'Import',
        importPayload(version, target, importAttributes(version, []), wrapped, { keyWrapType }),
      );
    // Not Wrapped, under a key that does not exist: refused by its reason, and nothing stored.
    const missingKek = fresh();
    t.is(
      (await importWrapped(missingKek, 'NotWrapped')).outcome,
      v2(version) ? 'OperationFailed/WrappingObjectNotFound' : 'OperationFailed/ItemNotFound',
    );
    t.not((await kmip.call('Get', uidXml(missingKek))).outcome, 'Success/-');
    const asRegistered = fresh();
    t.is((await importWrapped(asRegistered, 'AsRegistered')).outcome, 'Success/-');
    const got = await kmip.must('Get', uidXml(asRegistered));
    t.is(got.value('KeyValue'), 'ab'.repeat(24));
    t.true(got.has('KeyWrappingData'));

    // Not Wrapped under a key the server holds: unwrapped inside the token, then stored in clear (2.1 §6.1.25).
    const kekBytes = randomBytes(32);
    const kek = await kmip.registerSymmetric(kekBytes, [
      usage('WrapKey UnwrapKey'),
      activeSinceAnHour,
      parametersAttr(enumXml('BlockCipherMode', 'NISTKeyWrap')),
    ]);
    const clearKey = newKey();
    const cipher = createCipheriv('id-aes256-wrap', kekBytes, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    const wrappedBytes = Buffer.concat([cipher.update(clearKey), cipher.final()]);
    const unwrapped = fresh();
    const answer = await kmip.call(
      'Import',
      importPayload(
        version,
        unwrapped,
        importAttributes(version, []),
        wrapped
          .replace('ab'.repeat(24), wrappedBytes.toString('hex'))
          .replace('some-kek', kek)
          .replace('</KeyWrappingData>', `${enumXml('EncodingOption', 'NoEncoding')}</KeyWrappingData>`),
        { keyWrapType: 'NotWrapped' },
      ),
    );
    t.is(answer.outcome, 'Success/-', answer.xml);
    const clear = await kmip.must('Get', uidXml(unwrapped));
    t.deepEqual(clear.bytes('KeyMaterial'), clearKey);
    t.false(clear.has('KeyWrappingData'), 'stored unwrapped');
  });

  test.serial(`${version}: Import's identifier becomes the ID placeholder`, async (t) => {
    const uid = `placeholder-${randomUUID()}`;
    const payload = importPayload(
      version,
      uid,
      importAttributes(version, [usage('Encrypt')]),
      symmetricKey(newKey()),
    );
    const xml = await connection().requestXml(
      requestXml(
        version,
        `<BatchItem>${enumXml('Operation', 'Import')}<RequestPayload>${payload}</RequestPayload></BatchItem>
         <BatchItem>${enumXml('Operation', 'Activate')}<RequestPayload/></BatchItem>`,
      ),
    );
    t.is((xml.match(/value="Success"/g) ?? []).length, 2, xml);
    t.regex(
      attributesOf(await client(version).must('GetAttributes', uidXml(uid)), version),
      /value="Active"/,
    );
  });
}

test.serial("another principal's object cannot be replaced: its identifier is simply taken", async (t) => {
  const admin = client('2.1');
  const key = newKey();
  const uid = await admin.registerSymmetric(key, [usage('Encrypt')]);
  const files = await server().issueClient('tenant-import');
  const other = await TestKmipClient.connect(server().host, server().port, files);
  try {
    const tenant = new VersionedClient(other, '2.1');
    const answer = await tenant.call(
      'Import',
      importPayload('2.1', uid, importAttributes('2.1', [usage('Encrypt')]), symmetricKey(newKey()), {
        replace: true,
      }),
    );
    t.is(answer.outcome, 'OperationFailed/ObjectAlreadyExists');
    t.deepEqual(await admin.keyMaterial(uid), key);
  } finally {
    other.close();
  }
});

test.serial('no imported key is anywhere in clear in the data directory', async (t) => {
  await server().stop();
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(server().dataDir);
  t.true(files.some((f) => f.includes('store')));
  t.true(importedKeys.length > 10);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const key of importedKeys) {
      for (const form of clearForms(key)) t.false(bytes.includes(form), `${file} holds a key in clear`);
    }
  }
});

/**
 * The forms a key in clear could take in a file: its bytes, their hex, and their base64 inside a longer base64 text
 * (one of three alignments: the bytes from the first multiple of three of the encoded text on).
 */
function clearForms(key: Buffer): Buffer[] {
  const base64 = [0, 1, 2].map((skip) => {
    const whole = Math.floor((key.length - skip) / 3) * 3;
    return Buffer.from(key.subarray(skip, skip + whole).toString('base64'));
  });
  return [key, Buffer.from(key.toString('hex')), ...base64];
}
