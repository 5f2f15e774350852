/**
 * Template objects (KMIP 1.0-1.4 §2.2.6, deprecated in 1.3, gone in 2.0) over real mutual TLS: a Template is
 * registered, found, read and destroyed like other objects, and a Template-Attribute that names it gives its
 * attributes to the object made, with KMIP 1.4 §4's precedence (the last template wins between templates, the
 * request wins over templates, multi-instance attributes are united). Each check reads what the server stored.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  attr,
  customAttr,
  enumXml,
  nameAttr,
  uidXml,
  usage,
  VersionedClient,
  type AttributeSpec,
  type Version,
} from '../support/crypto-client.js';
import { TestKmipClient } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, client } = serverFixture(test);

const attributeXml = (spec: AttributeSpec): string => {
  const name = spec.tag.startsWith('x-') ? spec.tag : spec.tag.replace(/([a-z])([A-Z])/g, '$1 $2');
  const value = spec.scalar
    ? `<AttributeValue type="${spec.scalar.type}" value="${spec.scalar.value}"/>`
    : `<AttributeValue>${spec.children ?? ''}</AttributeValue>`;
  return `<Attribute><AttributeName type="TextString" value="${name}"/>${value}</Attribute>`;
};

/** A Template-Attribute: template names (by reference), then the request's own attributes. */
const templateAttribute = (names: readonly string[], own: readonly AttributeSpec[] = []): string =>
  `<TemplateAttribute>${names
    .map(
      (n) =>
        `<Name><NameValue type="TextString" value="${n}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name>`,
    )
    .join('')}${own.map(attributeXml).join('')}</TemplateAttribute>`;

async function registerTemplate(
  kmip: VersionedClient,
  name: string,
  held: readonly AttributeSpec[],
): Promise<string> {
  const answer = await kmip.must(
    'Register',
    `${enumXml('ObjectType', 'Template')}<TemplateAttribute>${attributeXml(nameAttr(name))}</TemplateAttribute><Template>${held
      .map(attributeXml)
      .join('')}</Template>`,
  );
  const uid = answer.value('UniqueIdentifier');
  if (uid === undefined) throw new Error('Register answered no Unique Identifier');
  return uid;
}

const createAes = (kmip: VersionedClient, templateAttributeXml: string) =>
  kmip.call('Create', `${enumXml('ObjectType', 'SymmetricKey')}${templateAttributeXml}`);

/** The values of one attribute of an object, as Get Attributes answers them. */
async function attributeValues(kmip: VersionedClient, uid: string, name: string): Promise<string[]> {
  const answer = await kmip.must(
    'GetAttributes',
    `${uidXml(uid)}<AttributeName type="TextString" value="${name}"/>`,
  );
  return [...answer.xml.matchAll(/<AttributeValue type="\w+" value="([^"]*)"\/>/g)].map((m) => m[1] ?? '');
}

const unique = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`;

for (const version of ['1.2', '1.4'] as const satisfies readonly Version[]) {
  test.serial(`${version}: a key made from a template has the template's attributes`, async (t) => {
    const kmip = client(version);
    const group = unique('group');
    const template = unique('aes-template');
    await registerTemplate(kmip, template, [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '256'),
      usage('Encrypt Decrypt'),
      attr('ObjectGroup', 'TextString', group),
      customAttr(version, 'Site', 'lab-3'),
    ]);
    const created = await createAes(kmip, templateAttribute([template]));
    t.is(created.outcome, 'Success/-', created.xml);
    const uid = created.value('UniqueIdentifier') ?? '';
    t.deepEqual(await attributeValues(kmip, uid, 'Cryptographic Length'), ['256']);
    t.deepEqual(await attributeValues(kmip, uid, 'Object Group'), [group]);
    t.deepEqual(await attributeValues(kmip, uid, 'x-Site'), ['lab-3']);
    t.is((await kmip.keyMaterial(uid)).length, 32, 'a 256-bit key was generated');
    // Locate by the template's group finds the key, not the template (which holds the group, but has it not).
    const found = await kmip.must('Locate', attributeXml(attr('ObjectGroup', 'TextString', group)));
    t.deepEqual(
      [...found.xml.matchAll(/UniqueIdentifier type="TextString" value="([^"]+)"/g)].map((m) => m[1]),
      [uid],
    );
  });

  test.serial(`${version}: precedence between templates and the request`, async (t) => {
    const kmip = client(version);
    const [first, second] = [unique('first'), unique('second')];
    const [groupA, groupB] = [unique('group-a'), unique('group-b')];
    await registerTemplate(kmip, first, [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '128'),
      usage('Encrypt'),
      attr('ObjectGroup', 'TextString', groupA),
    ]);
    await registerTemplate(kmip, second, [
      attr('CryptographicLength', 'Integer', '192'),
      attr('ObjectGroup', 'TextString', groupB),
    ]);
    // The last template wins for a single-instance attribute; groups (multi-instance) are united.
    const both = await createAes(kmip, templateAttribute([first, second]));
    t.is(both.outcome, 'Success/-', both.xml);
    const bothUid = both.value('UniqueIdentifier') ?? '';
    t.deepEqual(await attributeValues(kmip, bothUid, 'Cryptographic Length'), ['192']);
    t.deepEqual((await attributeValues(kmip, bothUid, 'Object Group')).sort(), [groupA, groupB].sort());
    t.deepEqual(await attributeValues(kmip, bothUid, 'Cryptographic Usage Mask'), ['Encrypt']);
    // The request's own single-instance attribute wins over every template; its own group joins theirs, once.
    const own = await createAes(
      kmip,
      templateAttribute(
        [second, first],
        [attr('CryptographicLength', 'Integer', '256'), attr('ObjectGroup', 'TextString', groupA)],
      ),
    );
    t.is(own.outcome, 'Success/-', own.xml);
    const ownUid = own.value('UniqueIdentifier') ?? '';
    t.deepEqual(await attributeValues(kmip, ownUid, 'Cryptographic Length'), ['256']);
    t.deepEqual((await attributeValues(kmip, ownUid, 'Object Group')).sort(), [groupA, groupB].sort());
  });

  test.serial(`${version}: a template is found, read as registered, and destroyed`, async (t) => {
    const kmip = client(version);
    const name = unique('lifecycle');
    const held = [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '128'),
    ];
    const uid = await registerTemplate(kmip, name, held);
    const located = await kmip.must(
      'Locate',
      attributeXml(nameAttr(name)) + attributeXml(attr('ObjectType', 'Enumeration', 'Template')),
    );
    t.true(located.xml.includes(`value="${uid}"`), located.xml);
    const got = await kmip.must('Get', uidXml(uid));
    t.true(got.xml.includes('<ObjectType type="Enumeration" value="Template"/>'), got.xml);
    t.true(got.xml.includes('<AttributeName type="TextString" value="Cryptographic Length"/>'), got.xml);
    t.true(got.xml.includes('<AttributeValue type="Integer" value="128"/>'), got.xml);
    const lease = await kmip.call(
      'GetAttributes',
      `${uidXml(uid)}<AttributeName type="TextString" value="Lease Time"/>`,
    );
    t.false(lease.has('AttributeValue'), 'a template is no cryptographic object: no Lease Time');
    t.is((await kmip.call('Destroy', uidXml(uid))).outcome, 'Success/-');
    const after = await createAes(kmip, templateAttribute([name]));
    t.is(after.outcome, 'OperationFailed/ItemNotFound', 'a destroyed template gives nothing');
  });
}

test.serial(
  'a template name nobody registered, or another client’s template, is Item Not Found',
  async (t) => {
    const kmip = client('1.4');
    const missing = await createAes(kmip, templateAttribute([unique('never-registered')]));
    t.is(missing.outcome, 'OperationFailed/ItemNotFound');
    t.regex(missing.message ?? '', /no Template named/);
    const name = unique('admin-only');
    await registerTemplate(kmip, name, [
      attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
      attr('CryptographicLength', 'Integer', '128'),
    ]);
    const files = await server().issueClient(unique('other-client'));
    const other = await TestKmipClient.connect(server().host, server().port, files);
    t.teardown(() => {
      other.close();
    });
    const theirs = await createAes(new VersionedClient(other, '1.4'), templateAttribute([name]));
    t.is(theirs.outcome, 'OperationFailed/ItemNotFound', theirs.xml);
  },
);

test.serial('a template may not hold what only the server sets, and 2.x has no templates', async (t) => {
  const refused = await client('1.4').call(
    'Register',
    `${enumXml('ObjectType', 'Template')}<TemplateAttribute/><Template>${attributeXml(
      attr('UniqueIdentifier', 'TextString', 'chosen-by-client'),
    )}</Template>`,
  );
  t.is(refused.outcome, 'OperationFailed/InvalidField', refused.xml);
  const v2 = await client('2.0').call('Register', `${enumXml('ObjectType', 'Template')}<Attributes/>`);
  t.is(v2.status, 'OperationFailed', v2.xml);
});

test.serial('a template holding a Name is refused; an archived one is Object Archived', async (t) => {
  const kmip = client('1.4');
  const named = await kmip.call(
    'Register',
    `${enumXml('ObjectType', 'Template')}<TemplateAttribute>${attributeXml(nameAttr(unique('outer')))}</TemplateAttribute><Template>${attributeXml(
      nameAttr(unique('inner')),
    )}</Template>`,
  );
  t.is(named.outcome, 'OperationFailed/InvalidField', 'KMIP 1.4 Table 330');
  const name = unique('archived');
  const uid = await registerTemplate(kmip, name, [
    attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
    attr('CryptographicLength', 'Integer', '128'),
  ]);
  t.is((await kmip.call('Archive', uidXml(uid))).outcome, 'Success/-');
  const made = await createAes(kmip, templateAttribute([name]));
  t.is(made.outcome, 'OperationFailed/ObjectArchived', made.xml);
});

test.serial('a client’s own template comes before another owner’s of the same name', async (t) => {
  const files = await server().issueClient(unique('template-owner'));
  const other = await TestKmipClient.connect(server().host, server().port, files);
  t.teardown(() => {
    other.close();
  });
  const theirs = new VersionedClient(other, '1.4');
  const ours = client('1.4');
  const name = unique('shared-name');
  // The other owner's comes first, so that neither the oldest nor the first found is ours by chance.
  await registerTemplate(theirs, name, [
    attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
    attr('CryptographicLength', 'Integer', '128'),
  ]);
  await registerTemplate(ours, name, [
    attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
    attr('CryptographicLength', 'Integer', '256'),
  ]);
  const mine = await createAes(ours, templateAttribute([name]));
  t.deepEqual(await attributeValues(ours, mine.value('UniqueIdentifier') ?? '', 'Cryptographic Length'), [
    '256',
  ]);
  const yours = await createAes(theirs, templateAttribute([name]));
  t.deepEqual(await attributeValues(theirs, yours.value('UniqueIdentifier') ?? '', 'Cryptographic Length'), [
    '128',
  ]);
});

test.serial('a Template does not exist for a KMIP 2.x request, which has no such type', async (t) => {
  const name = unique('v1-only');
  const uid = await registerTemplate(client('1.4'), name, [attr('CryptographicLength', 'Integer', '128')]);
  const byName = (version: '1.4' | '2.1'): string =>
    version === '2.1'
      ? `<Attributes><Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>`
      : attributeXml(nameAttr(name));
  t.true((await client('1.4').must('Locate', byName('1.4'))).xml.includes(uid));
  const located = await client('2.1').must('Locate', byName('2.1'));
  t.false(located.xml.includes(uid), '2.1 Locate leaves it out');
  for (const operation of ['Get', 'GetAttributes', 'Destroy']) {
    const answer = await client('2.1').call(operation, uidXml(uid));
    t.is(answer.outcome, 'OperationFailed/ObjectNotFound', `${operation}: ${answer.xml}`);
  }
  t.is((await client('1.4').call('Get', uidXml(uid))).outcome, 'Success/-', 'still there for 1.x');
});
