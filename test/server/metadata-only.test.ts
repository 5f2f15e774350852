/**
 * Keys registered without their Key Value (KMIP 1.4 §3.41 Key Value Present, §3.42 Key Value Location; the test
 * cases TC-MDO), over real mutual TLS at 1.4 and 2.1: stored and served without a value, Key Value Present set False
 * by the server and found by Locate, the location kept as given; no cryptography with a value that is not there;
 * refused before 1.4 and for public keys. And Original Creation Date, which a registering client may give (§3.43).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  bytesXml,
  ecb,
  enumXml,
  intXml,
  nameAttr,
  structAttr,
  uidXml,
  usage,
  type AttributeSpec,
  type Version,
  type VersionedClient,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const location = (value: string): AttributeSpec =>
  structAttr(
    'KeyValueLocation',
    `<KeyValueLocationValue type="TextString" value="${value}"/>${enumXml('KeyValueLocationType', 'URI')}`,
  );

/** Register of an AES-128 key whose Key Block has no Key Value. */
function registerWithoutValue(kmip: VersionedClient, attributes: readonly AttributeSpec[]): Promise<string> {
  return registerPayload(
    kmip,
    `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(kmip.version, attributes)}` +
      `<SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}${enumXml('CryptographicAlgorithm', 'AES')}` +
      `${intXml('CryptographicLength', 128)}</KeyBlock></SymmetricKey>`,
  );
}

async function registerPayload(kmip: VersionedClient, payload: string): Promise<string> {
  const uid = (await kmip.must('Register', payload)).value('UniqueIdentifier');
  if (uid === undefined) throw new Error('Register answered no Unique Identifier');
  return uid;
}

for (const version of ['1.4', '2.1'] as const satisfies readonly Version[]) {
  test.serial(
    `${version}: a key registered without its Key Value is kept and served without one`,
    async (t) => {
      const kmip = client(version);
      const where = `pkcs11:token=elsewhere;object=mdo-${version}`;
      const name = `mdo-${version}-${randomBytes(4).toString('hex')}`;
      const uid = await registerWithoutValue(kmip, [
        usage('Encrypt Decrypt'),
        activeSinceAnHour,
        location(where),
        nameAttr(name),
      ]);
      const got = await kmip.must('Get', uidXml(uid));
      t.true(got.has('KeyBlock'));
      t.false(got.has('KeyValue'), 'no Key Value in the served Key Block');
      t.is(got.value('CryptographicLength'), '128');

      const attributes = await kmip.must('GetAttributes', uidXml(uid));
      t.regex(
        attributes.xml,
        /KeyValuePresent type="Boolean" value="false"|value="Key Value Present"\/>\s*<AttributeValue type="Boolean" value="false"/,
      );
      t.true(attributes.xml.includes(where), 'the location as given');

      // Locate by Key Value Present finds it among this client's objects, and not a key that has its value.
      const withValue = await kmip.registerSymmetric(randomBytes(16), [usage('Encrypt'), nameAttr(name)]);
      const absent = attr('KeyValuePresent', 'Boolean', 'false');
      const named = nameAttr(name);
      const located = await kmip.must(
        'Locate',
        attributesXml(version, [absent, named], { v1: 'Unwrapped', v2: 'Attributes' }).replace(
          /<\/?Unwrapped>/g,
          '',
        ),
      );
      t.is(located.value('UniqueIdentifier'), uid);
      t.is(located.value('UniqueIdentifier', 1), undefined, 'only the key without its value');
      t.not(withValue, uid);

      // Nothing to encrypt with.
      const encrypted = await kmip.call(
        'Encrypt',
        `${uidXml(uid)}${ecb}${bytesXml('Data', randomBytes(16))}`,
      );
      t.is(encrypted.outcome, 'OperationFailed/KeyValueNotPresent', encrypted.xml);
    },
  );

  test.serial(
    `${version}: Key Value Present is the server's, and public keys keep their value`,
    async (t) => {
      const kmip = client(version);
      const given = await kmip.call(
        'Register',
        `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(version, [attr('KeyValuePresent', 'Boolean', 'false')])}` +
          `<SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}${enumXml('CryptographicAlgorithm', 'AES')}` +
          `${intXml('CryptographicLength', 128)}</KeyBlock></SymmetricKey>`,
      );
      t.is(given.outcome, 'OperationFailed/InvalidField', 'a client may not give Key Value Present');
      const publicKey = await kmip.call(
        'Register',
        `${enumXml('ObjectType', 'PublicKey')}${attributesXml(version, [])}` +
          `<PublicKey><KeyBlock>${enumXml('KeyFormatType', 'X_509')}${enumXml('CryptographicAlgorithm', 'RSA')}` +
          `${intXml('CryptographicLength', 2048)}</KeyBlock></PublicKey>`,
      );
      t.is(publicKey.outcome, 'OperationFailed/InvalidField', 'KMIP 1.4 §3.41 does not apply to public keys');
    },
  );

  test.serial(
    `${version}: Original Creation Date may be given on Register, and is fixed after`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(randomBytes(16), [
        usage('Encrypt'),
        attr('OriginalCreationDate', 'DateTime', '1999-12-31T23:00:00+00:00'),
      ]);
      const attributes = await kmip.must('GetAttributes', uidXml(uid));
      t.true(attributes.xml.includes('1999-12-31T23:00:00'), attributes.xml);
      // Once set, never changed (§3.43).
      const later = '2001-01-01T00:00:00+00:00';
      const modify =
        version === '1.4'
          ? `${uidXml(uid)}<Attribute><AttributeName type="TextString" value="Original Creation Date"/><AttributeValue type="DateTime" value="${later}"/></Attribute>`
          : `${uidXml(uid)}<NewAttribute><OriginalCreationDate type="DateTime" value="${later}"/></NewAttribute>`;
      const modified = await kmip.call('ModifyAttribute', modify);
      t.not(modified.outcome, 'Success/-', modified.xml);
      t.false(
        (await kmip.must('GetAttributes', uidXml(uid))).xml.includes('2001-01-01'),
        'still the date registered',
      );
      const created = await kmip.call(
        'Create',
        `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(version, [
          attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
          attr('CryptographicLength', 'Integer', '128'),
          attr('OriginalCreationDate', 'DateTime', '1999-12-31T23:00:00+00:00'),
        ])}`,
      );
      t.is(created.outcome, 'OperationFailed/InvalidField', 'a generated key has the server’s own');
    },
  );
}

for (const version of ['1.4', '2.1'] as const satisfies readonly Version[]) {
  test.serial(
    `${version}: a registered object without Original Creation Date may have one added, once`,
    async (t) => {
      const kmip = client(version);
      const add = (uid: string, date: string): string =>
        version === '1.4'
          ? `${uidXml(uid)}<Attribute><AttributeName type="TextString" value="Original Creation Date"/><AttributeValue type="DateTime" value="${date}"/></Attribute>`
          : `${uidXml(uid)}<NewAttribute><OriginalCreationDate type="DateTime" value="${date}"/></NewAttribute>`;
      const uid = await kmip.registerSymmetric(randomBytes(16), [usage('Encrypt')]);
      t.is((await kmip.call('AddAttribute', add(uid, '1998-07-01T12:00:00+00:00'))).outcome, 'Success/-');
      t.true((await kmip.must('GetAttributes', uidXml(uid))).xml.includes('1998-07-01T12:00:00'));
      const again = await kmip.call('AddAttribute', add(uid, '1997-01-01T00:00:00+00:00'));
      t.not(again.outcome, 'Success/-', 'a second time');
      t.false((await kmip.must('GetAttributes', uidXml(uid))).xml.includes('1997-01-01'));
      // A key the server generated has the server's date already.
      const created = await kmip.must(
        'Create',
        `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(version, [
          attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
          attr('CryptographicLength', 'Integer', '128'),
        ])}`,
      );
      const generated = created.value('UniqueIdentifier') ?? '';
      t.not(
        (await kmip.call('AddAttribute', add(generated, '1998-07-01T12:00:00+00:00'))).outcome,
        'Success/-',
      );
    },
  );
}

test.serial('1.2: a Key Value is required before KMIP 1.4', async (t) => {
  const kmip = client('1.2');
  const answer = await kmip.call(
    'Register',
    `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml('1.2', [])}` +
      `<SymmetricKey><KeyBlock>${enumXml('KeyFormatType', 'Raw')}${enumXml('CryptographicAlgorithm', 'AES')}` +
      `${intXml('CryptographicLength', 128)}</KeyBlock></SymmetricKey>`,
  );
  t.is(answer.outcome, 'OperationFailed/InvalidField');
});
