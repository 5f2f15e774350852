/**
 * Export (KMIP 1.4 §4.40, 2.0 and 2.1 §6.1.18) over real mutual TLS, at 1.4, 2.0 and 2.1: the object as Get gives it
 * (Key Format Type conversions, key wrapping, no Sensitive value in clear, Fresh turned False) with every
 * attribute as Get Attributes lists them, in each version's form; the ID placeholder; a destroyed key without its
 * key material; another principal's object not found (Object Not Found, as an unknown one in 2.1).
 */
import { createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';
import {
  attr,
  attributesXml,
  customAttr,
  enumXml,
  nameAttr,
  parametersAttr,
  uidXml,
  usage,
  v2,
  VersionedClient,
  type Version,
} from '../support/crypto-client.js';
import { attributesOf, element, freshIs } from '../support/export-answers.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.0', '2.1'];
const newKey = (): Buffer => Buffer.from(randomUUID().replaceAll('-', ''), 'hex');

for (const version of versions) {
  test.serial(`${version}: Export answers the object as Get does, with every attribute`, async (t) => {
    const kmip = client(version);
    const key = newKey();
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      nameAttr(`export-${version}`),
      customAttr(version, 'origin', 'elsewhere'),
    ]);
    const all = await kmip.must('GetAttributes', uidXml(uid));
    const exported = await kmip.call('Export', uidXml(uid));
    t.is(exported.outcome, 'Success/-', exported.xml);
    t.is(exported.value('ObjectType'), 'SymmetricKey');
    t.is(exported.value('UniqueIdentifier'), uid);
    t.deepEqual(exported.bytes('KeyMaterial'), key);
    const attributes = attributesOf(exported, version);
    t.is(attributes, attributesOf(all, version), 'every attribute, as Get Attributes lists them');
    t.true(attributes.includes(`export-${version}`) && attributes.includes('elsewhere'));
    if (!v2(version)) t.false(exported.has('Attributes'), '1.4 lists Attribute structures, no container');
    // Served as by Get: no longer Fresh (2.1 §4.24), and the same object structure.
    const after = await kmip.must('GetAttributes', uidXml(uid));
    t.regex(attributesOf(after, version), freshIs(version, false));
    t.regex(attributes, freshIs(version, true));
    const got = await kmip.must('Get', uidXml(uid));
    t.is(element(exported.xml, 'SymmetricKey'), element(got.xml, 'SymmetricKey'));

    // As Get: a Key Format Type conversion, and key wrapping (NIST Key Wrap, unwrapped here by node:crypto).
    const transparent = await kmip.call(
      'Export',
      `${uidXml(uid)}${enumXml('KeyFormatType', 'TransparentSymmetricKey')}`,
    );
    t.is(transparent.outcome, 'Success/-', transparent.xml);
    t.deepEqual(transparent.bytes('Key'), key);
    const kek = randomBytes(32);
    const wrapper = await kmip.registerSymmetric(kek, [
      usage('WrapKey'),
      attr('ActivationDate', 'DateTime', '$NOW-3600'),
      parametersAttr(enumXml('BlockCipherMode', 'NISTKeyWrap')),
    ]);
    const wrapping = await kmip.call(
      'Export',
      `${uidXml(uid)}<KeyWrappingSpecification>${enumXml('WrappingMethod', 'Encrypt')}` +
        `<EncryptionKeyInformation>${uidXml(wrapper)}</EncryptionKeyInformation>` +
        `${enumXml('EncodingOption', 'NoEncoding')}</KeyWrappingSpecification>`,
    );
    t.is(wrapping.outcome, 'Success/-', wrapping.xml);
    const decipher = createDecipheriv('id-aes256-wrap', kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    t.deepEqual(Buffer.concat([decipher.update(wrapping.bytes('KeyValue')), decipher.final()]), key);
    const unnamed = await kmip.call(
      'Export',
      `${uidXml(uid)}<KeyWrappingSpecification>${enumXml('WrappingMethod', 'Encrypt')}</KeyWrappingSpecification>`,
    );
    t.is(unnamed.outcome, 'OperationFailed/InvalidField', 'Encrypt without Encryption Key Information');
  });

  test.serial(`${version}: Export's identifier becomes the ID placeholder`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(newKey(), [usage('Encrypt')]);
    const xml = await connection().requestXml(
      requestXml(
        version,
        `<BatchItem>${enumXml('Operation', 'Export')}<RequestPayload>${uidXml(uid)}</RequestPayload></BatchItem>
         <BatchItem>${enumXml('Operation', 'Activate')}<RequestPayload/></BatchItem>`,
      ),
    );
    t.is((xml.match(/value="Success"/g) ?? []).length, 2, xml);
    const state = await kmip.must('GetAttributes', uidXml(uid));
    t.regex(state.xml, /value="Active"/, 'the Activate without an identifier reached the exported object');
  });

  test.serial(`${version}: a destroyed key is exported without its key material`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(newKey(), [usage('Encrypt')]);
    await kmip.must('Destroy', uidXml(uid));
    const exported = await kmip.call('Export', uidXml(uid));
    t.is(exported.outcome, 'Success/-', exported.xml);
    t.false(exported.has('KeyValue'));
    t.false(exported.has('KeyMaterial'));
    t.is(exported.value('KeyFormatType'), 'Raw');
    t.regex(attributesOf(exported, version), /value="Destroyed"/);

    const secret = await kmip.registerSecretData(Buffer.from('secret'), []);
    await kmip.must('Destroy', uidXml(secret));
    t.is(
      (await kmip.call('Export', uidXml(secret))).outcome,
      'OperationFailed/KeyValueNotPresent',
      'Secret Data cannot be written without its value',
    );
  });

  test.serial(
    `${version}: a key registered wrapped is exported as registered, and unwrapped only by a key the server holds`,
    async (t) => {
      const kmip = client(version);
      const wrapped = 'c3'.repeat(24);
      const uid =
        (
          await kmip.must(
            'Register',
            `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(version, [usage('Encrypt')])}
        <SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}<KeyValue type="ByteString" value="${wrapped}"/>
          ${enumXml('CryptographicAlgorithm', 'AES')}<CryptographicLength type="Integer" value="128"/>
          <KeyWrappingData>${enumXml('WrappingMethod', 'Encrypt')}
            <EncryptionKeyInformation>${uidXml('some-kek')}</EncryptionKeyInformation></KeyWrappingData>
        </KeyBlock></SymmetricKey>`,
          )
        ).value('UniqueIdentifier') ?? '';
      const asRegistered = await kmip.call(
        'Export',
        `${uidXml(uid)}${enumXml('KeyWrapType', 'AsRegistered')}`,
      );
      t.is(asRegistered.outcome, 'Success/-', asRegistered.xml);
      t.is(asRegistered.value('KeyValue'), wrapped);
      // Not Wrapped asks for it unwrapped, by a key this server does not hold.
      const unwrapped = await kmip.call('Export', `${uidXml(uid)}${enumXml('KeyWrapType', 'NotWrapped')}`);
      t.is(
        unwrapped.outcome,
        v2(version) ? 'OperationFailed/WrappingObjectNotFound' : 'OperationFailed/ItemNotFound',
      );
      t.false(unwrapped.has('KeyValue'));
    },
  );

  test.serial(
    `${version}: a Sensitive object's value is not exported, as Get does not serve it`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(newKey(), [
        usage('Encrypt'),
        attr('Sensitive', 'Boolean', 'true'),
      ]);
      const got = await kmip.call('Get', uidXml(uid));
      const exported = await kmip.call('Export', uidXml(uid));
      t.not(got.outcome, 'Success/-');
      t.is(exported.outcome, got.outcome);
      t.false(exported.has('KeyMaterial'));
    },
  );
}

test.serial("another principal's object cannot be exported: it does not exist for the caller", async (t) => {
  const uid = await client('2.1').registerSymmetric(newKey(), [usage('Encrypt')]);
  const files = await server().issueClient('tenant-export');
  const other = await TestKmipClient.connect(server().host, server().port, files);
  try {
    const answer = await new VersionedClient(other, '2.1').call('Export', uidXml(uid));
    t.is(answer.outcome, 'OperationFailed/ObjectNotFound');
    t.false(answer.has('KeyMaterial'));
  } finally {
    other.close();
  }
});
