/**
 * Two refusals the 2.1 Baseline vector BL-M-8-21 expects, over real mutual TLS: a Name the object already has, added
 * again, is Non Unique Name Attribute (Invalid Field in 1.x, which has no such reason), while the same Name on
 * another object stays allowed (Barbican registers many secrets under one name); and Get of a destroyed object is
 * Object Destroyed in 2.x (Item Not Found in 1.x).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { uidXml, type Version } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const nameXml = (version: Version, name: string): string =>
  version === '2.1'
    ? `<NewAttribute><Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></NewAttribute>`
    : `<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>`;

for (const [version, duplicate, destroyed] of [
  ['1.4', 'OperationFailed/InvalidField', 'OperationFailed/ItemNotFound'],
  ['2.1', 'OperationFailed/NonUniqueNameAttribute', 'OperationFailed/ObjectDestroyed'],
] as const) {
  test.serial(
    `${version}: a Name the object has is not added twice; other objects may share it`,
    async (t) => {
      const kmip = client(version);
      const first = await kmip.registerSymmetric(randomBytes(16), []);
      const second = await kmip.registerSymmetric(randomBytes(16), []);
      const name = `shared-${version}`;
      t.is(
        (await kmip.call('AddAttribute', `${uidXml(first)}${nameXml(version, name)}`)).outcome,
        'Success/-',
      );
      const again = await kmip.call('AddAttribute', `${uidXml(first)}${nameXml(version, name)}`);
      t.is(again.outcome, duplicate, again.xml);
      t.regex(again.xml, /already has this Name/);
      t.is(
        (await kmip.call('AddAttribute', `${uidXml(second)}${nameXml(version, name)}`)).outcome,
        'Success/-',
      );
      t.is(
        (await kmip.call('AddAttribute', `${uidXml(first)}${nameXml(version, `${name}-other`)}`)).outcome,
        'Success/-',
        'another Name on the same object is fine',
      );
    },
  );

  test.serial(`${version}: Get of a destroyed object`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(randomBytes(16), []);
    await kmip.must('Destroy', uidXml(uid));
    const get = await kmip.call('Get', uidXml(uid));
    t.is(get.outcome, destroyed, get.xml);
  });
}
