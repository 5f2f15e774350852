/**
 * Attributes the server sets and what they do, over real mutual TLS: Fresh (KMIP 2.1 §4.24) True on a new object and
 * False once Get has served it, unless the client registered it False; Sensitive (§4.55) keeps Get from serving
 * the value, and Always Sensitive (§4.4) says so; Digest (1.4 §3.17) is SHA-256 of the registered Key Material;
 * Log (2.1 §6.1.29) takes a message and answers an empty payload.
 */
import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { allAttributes, scalar } from '../support/attribute-answers.js';
import { attr, uidXml, VersionedClient, type Answer } from '../support/crypto-client.js';
import { TestKmipClient } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client, server } = serverFixture(test);

for (const version of ['1.4', '2.1'] as const) {
  test.serial(
    `${version}: Fresh until the first Get; a client may register an object as not fresh`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(randomBytes(16), []);
      t.is(scalar(await allAttributes(kmip, uid), version, 'Fresh'), 'true');
      await kmip.must('Get', uidXml(uid));
      t.is(scalar(await allAttributes(kmip, uid), version, 'Fresh'), 'false', 'served once');
      const stale = await kmip.registerSymmetric(randomBytes(16), [attr('Fresh', 'Boolean', 'false')]);
      t.is(scalar(await allAttributes(kmip, stale), version, 'Fresh'), 'false');
      const modify = await kmip.call(
        'ModifyAttribute',
        version === '2.1'
          ? `${uidXml(stale)}<NewAttribute><Fresh type="Boolean" value="true"/></NewAttribute>`
          : `${uidXml(stale)}<Attribute><AttributeName type="TextString" value="Fresh"/><AttributeValue type="Boolean" value="true"/></Attribute>`,
      );
      t.is(modify.status, 'OperationFailed', 'a client cannot make an object fresh again');
    },
  );

  test.serial(`${version}: a Sensitive key is not served by Get, and is Always Sensitive`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(16);
    const uid = await kmip.registerSymmetric(key, [attr('Sensitive', 'Boolean', 'true')]);
    const get = await kmip.call('Get', uidXml(uid));
    // Result Reason Sensitive exists from KMIP 1.4 on, with the Sensitive attribute.
    t.is(get.outcome, 'OperationFailed/Sensitive', get.xml);
    t.false(get.has('KeyMaterial'));
    const attributes = await allAttributes(kmip, uid);
    t.is(scalar(attributes, version, 'AlwaysSensitive'), 'true');
    const plain = await kmip.registerSymmetric(key, []);
    t.is((await kmip.must('Get', uidXml(plain))).bytes('KeyMaterial').toString('hex'), key.toString('hex'));
  });

  test.serial(
    `${version}: Sensitive, Extractable and what they have always been are set on every new object`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(randomBytes(16), []);
      const plain = await allAttributes(kmip, uid);
      // KMIP 1.4 §3.48-§3.51: each "SHALL always have a value"; False / True unless the client gave them.
      t.is(scalar(plain, version, 'Sensitive'), 'false');
      t.is(scalar(plain, version, 'AlwaysSensitive'), 'false');
      t.is(scalar(plain, version, 'Extractable'), 'true');
      t.is(scalar(plain, version, 'NeverExtractable'), 'false');
      const kept = await kmip.registerSymmetric(randomBytes(16), [attr('Extractable', 'Boolean', 'false')]);
      const locked = await allAttributes(kmip, kept);
      t.is(scalar(locked, version, 'Extractable'), 'false');
      t.is(scalar(locked, version, 'NeverExtractable'), 'true');
      t.is(scalar(locked, version, 'Sensitive'), 'false');
    },
  );

  test.serial(`${version}: a key that is not Extractable is not served, wrapped or not`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(randomBytes(16), [attr('Extractable', 'Boolean', 'false')]);
    const get = await kmip.call('Get', uidXml(uid));
    t.is(get.outcome, 'OperationFailed/NotExtractable', get.xml);
    t.false(get.has('KeyMaterial'));
    const wrapped = await kmip.call(
      'Get',
      `${uidXml(uid)}<KeyWrappingSpecification><WrappingMethod type="Enumeration" value="Encrypt"/>
         <EncryptionKeyInformation>${uidXml(uid)}</EncryptionKeyInformation></KeyWrappingSpecification>`,
    );
    t.is(wrapped.outcome, 'OperationFailed/NotExtractable', wrapped.xml);
    const exported = await kmip.call('Export', uidXml(uid));
    t.is(exported.outcome, 'OperationFailed/NotExtractable', exported.xml);
    // It still works inside the server: Extractable is about its value leaving, not about its use.
    t.is((await kmip.call('GetAttributes', uidXml(uid))).outcome, 'Success/-');
  });

  test.serial(`${version}: a new object has a Lease Time of an hour`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(randomBytes(16), []);
    t.is(scalar(await allAttributes(kmip, uid), version, 'LeaseTime'), '3600');
  });

  test.serial(`${version}: the Digest of a registered key is the SHA-256 of its Key Material`, async (t) => {
    const kmip = client(version);
    const key = randomBytes(32);
    const uid = await kmip.registerSymmetric(key, []);
    const answer = await allAttributes(kmip, uid);
    t.is(answer.value('DigestValue'), createHash('sha256').update(key).digest('hex'));
    t.is(answer.value('HashingAlgorithm'), 'SHA_256');
  });
}

test.serial(
  '2.1: Log takes a message and answers an empty payload; no message is Invalid Field',
  async (t) => {
    const kmip = client('2.1');
    const logged = await kmip.call('Log', '<LogMessage type="TextString" value="hello from a test"/>');
    t.is(logged.outcome, 'Success/-', logged.xml);
    t.false(logged.has('LogMessage'));
    t.is((await kmip.call('Log', '')).outcome, 'OperationFailed/InvalidField');
  },
);

test.serial(
  '2.1: Gets of a fresh object at the same time all succeed (one of them turns Fresh False)',
  async (t) => {
    const key = randomBytes(16);
    const uid = await client('2.1').registerSymmetric(key, []);
    const connections = await Promise.all(
      Array.from({ length: 6 }, () => TestKmipClient.connect(server().host, server().port, server())),
    );
    try {
      const answers = await Promise.all(
        connections.map((connection) => new VersionedClient(connection, '2.1').call('Get', uidXml(uid))),
      );
      for (const answer of answers) {
        t.is(answer.outcome, 'Success/-', answer.xml);
        t.is(answer.bytes('KeyMaterial').toString('hex'), key.toString('hex'));
      }
      t.is(scalar(await allAttributes(client('2.1'), uid), '2.1', 'Fresh'), 'false');
    } finally {
      for (const connection of connections) connection.close();
    }
  },
);

test.serial(
  '2.x: the Short Unique Identifier is the SHA-256 of the Unique Identifier; 1.x never sees it',
  async (t) => {
    const kmip = client('2.1');
    const uid = await kmip.registerSymmetric(randomBytes(16), []);
    // KMIP 2.1 §4.56: "SHOULD be generated as a SHA-256 hash of the Unique Identifier and SHALL be a 32 byte byte
    // string".
    t.is(
      (await allAttributes(kmip, uid)).value('ShortUniqueIdentifier'),
      createHash('sha256').update(uid).digest('hex'),
    );
    t.notRegex(
      (await allAttributes(client('1.4'), uid)).xml,
      /Short Unique Identifier|ShortUniqueIdentifier/,
    );
  },
);

test.serial(
  '2.x: every new object has a Protection Storage Mask of Software (a SoftHSM2 slot), which no client sets; 1.x never sees it',
  async (t) => {
    const kmip = client('2.1');
    const registered = await kmip.registerSymmetric(randomBytes(16), []);
    const created =
      (
        await kmip.must(
          'Create',
          `<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes>
            <CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/>
          </Attributes>`,
        )
      ).value('UniqueIdentifier') ?? '';
    for (const uid of [registered, created]) {
      // KMIP 2.1 §4.44 "SHALL always have a value", §12.2 Software = 0x00000001.
      t.is((await allAttributes(kmip, uid)).value('ProtectionStorageMask'), 'Software');
      t.notRegex(
        (await allAttributes(client('1.4'), uid)).xml,
        /Protection Storage Mask|ProtectionStorageMask/,
      );
    }
    const set = await kmip.call(
      'SetAttribute',
      `${uidXml(registered)}<NewAttribute><ProtectionStorageMask type="Integer" value="Hardware"/></NewAttribute>`,
    );
    t.is(set.status, 'OperationFailed', set.xml);
    t.is((await allAttributes(kmip, registered)).value('ProtectionStorageMask'), 'Software');
  },
);

test.serial(
  '2.x: Protection Storage Masks the token cannot meet are refused by name; Query names the one it meets',
  async (t) => {
    const kmip = client('2.1');
    const masks = (field: string, ...values: string[]): string =>
      `<${field}>${values.map((v) => `<ProtectionStorageMask type="Integer" value="${v}"/>`).join('')}</${field}>`;
    const aes = `<Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="128"/></Attributes>`;
    const create = (extra: string): Promise<Answer> =>
      kmip.call('Create', `<ObjectType type="Enumeration" value="SymmetricKey"/>${aes}${extra}`);
    // 2.1 §7.33: any one mask met in its entirety is enough; none met is an error.
    const hardware = await create(masks('ProtectionStorageMasks', 'Hardware'));
    t.is(hardware.outcome, 'OperationFailed/ProtectionStorageUnavailable', hardware.xml);
    t.regex(hardware.xml, /software token/);
    const partly = await create(masks('ProtectionStorageMasks', 'Software OnSystem'));
    t.is(partly.outcome, 'OperationFailed/ProtectionStorageUnavailable', 'every bit of a mask must be met');
    const either = await create(masks('ProtectionStorageMasks', 'Hardware', 'Software'));
    t.is(either.outcome, 'Success/-', either.xml);
    const pair = await kmip.call(
      'CreateKeyPair',
      `<CommonAttributes><CryptographicAlgorithm type="Enumeration" value="EC"/>
        <RecommendedCurve type="Enumeration" value="P_256"/></CommonAttributes>
      ${masks('PrivateProtectionStorageMasks', 'Hardware')}`,
    );
    t.is(pair.outcome, 'OperationFailed/PrivateProtectionStorageUnavailable', pair.xml);
    const query = await kmip.must(
      'Query',
      '<QueryFunction type="Enumeration" value="QueryStorageProtectionMasks"/>',
    );
    t.regex(
      query.xml,
      /<ProtectionStorageMasks>\s*<ProtectionStorageMask type="Integer" value="Software"\/>\s*<\/ProtectionStorageMasks>/,
    );
  },
);

test.serial(
  '2.x: Set Attribute creates an attribute, replaces its one instance, and refuses one with several (Multi Valued Attribute)',
  async (t) => {
    const kmip = client('2.1');
    const uid = await kmip.registerSymmetric(randomBytes(16), []);
    const vendor = (value: string): string =>
      `<Attribute><VendorIdentification type="TextString" value="tc"/><AttributeName type="TextString" value="Set"/><AttributeValue type="TextString" value="${value}"/></Attribute>`;
    const values = async (): Promise<string[]> => {
      const answer = await kmip.must(
        'GetAttributes',
        `${uidXml(uid)}<AttributeReference><VendorIdentification type="TextString" value="tc"/><AttributeName type="TextString" value="Set"/></AttributeReference>`,
      );
      return [...answer.xml.matchAll(/<AttributeValue type="TextString" value="([^"]*)"/g)].map(
        (m) => m[1] ?? '',
      );
    };
    await kmip.must('SetAttribute', `${uidXml(uid)}<NewAttribute>${vendor('one')}</NewAttribute>`);
    t.deepEqual(await values(), ['one'], 'created');
    await kmip.must('SetAttribute', `${uidXml(uid)}<NewAttribute>${vendor('two')}</NewAttribute>`);
    t.deepEqual(await values(), ['two'], 'its one instance replaced');
    await kmip.must('AddAttribute', `${uidXml(uid)}<NewAttribute>${vendor('three')}</NewAttribute>`);
    const refused = await kmip.call(
      'SetAttribute',
      `${uidXml(uid)}<NewAttribute>${vendor('four')}</NewAttribute>`,
    );
    t.is(refused.outcome, 'OperationFailed/MultiValuedAttribute', refused.xml);
    t.deepEqual((await values()).sort(), ['three', 'two'], 'both instances kept');
  },
);

for (const version of ['1.4', '2.1'] as const) {
  test.serial(
    `${version}: attributes are listed custom first, then what the object is, then the others by name`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(randomBytes(16), [
        attr('CryptographicUsageMask', 'Integer', 'Encrypt'),
      ]);
      const custom = (name: string): string =>
        version === '2.1'
          ? `${uidXml(uid)}<NewAttribute><Attribute><VendorIdentification type="TextString" value="x"/><AttributeName type="TextString" value="${name}"/><AttributeValue type="TextString" value="v"/></Attribute></NewAttribute>`
          : `${uidXml(uid)}<Attribute><AttributeName type="TextString" value="x-${name}"/><AttributeValue type="TextString" value="v"/></Attribute>`;
      await kmip.must('AddAttribute', custom('zeta'));
      await kmip.must('AddAttribute', custom('alpha'));
      await kmip.must('Activate', uidXml(uid));
      const list = await kmip.must('GetAttributeList', uidXml(uid));
      const named =
        version === '2.1'
          ? [
              ...list.xml.matchAll(
                /<AttributeReference(?: type="Enumeration" value="([^"]*)"\/>|>[\s\S]*?<AttributeName type="TextString" value="([^"]*)")/g,
              ),
            ].map((m) => m[1] ?? `x-${m[2] ?? ''}`)
          : [...list.xml.matchAll(/<AttributeName type="TextString" value="([^"]*)"/g)].map(
              (m) => m[1] ?? '',
            );
      const expectedHead =
        version === '2.1'
          ? [
              'x-alpha',
              'x-zeta',
              'UniqueIdentifier',
              'ShortUniqueIdentifier',
              'ObjectType',
              'CryptographicAlgorithm',
              'CryptographicLength',
            ]
          : [
              'x-alpha',
              'x-zeta',
              'Unique Identifier',
              'Object Type',
              'Cryptographic Algorithm',
              'Cryptographic Length',
            ];
      t.deepEqual(named.slice(0, expectedHead.length), expectedHead, list.xml);
      const rest = named.slice(expectedHead.length);
      const byName = [...rest].sort((a, b) => a.localeCompare(b, 'en'));
      // 2.x: Key Format Type, which 1.x carried inside the Digest, right after the Digest.
      const expectedRest =
        version === '2.1'
          ? byName.flatMap((n) => (n === 'KeyFormatType' ? [] : n === 'Digest' ? [n, 'KeyFormatType'] : [n]))
          : byName;
      if (version === '2.1') t.true(rest.includes('KeyFormatType') && rest.includes('Digest'));
      t.deepEqual(rest, expectedRest, 'the rest by name');
      t.true(rest.includes(version === '2.1' ? 'ActivationDate' : 'Activation Date'));
      // Get Attributes without names lists them in the same order.
      const all = await allAttributes(kmip, uid);
      const allNames =
        version === '2.1'
          ? [
              ...all.xml.slice(all.xml.indexOf('<Attributes>')).matchAll(/<(\w+) type="[A-Za-z]+" value=/g),
            ].map((m) => m[1])
          : [...all.xml.matchAll(/<AttributeName type="TextString" value="([^"]*)"/g)].map((m) => m[1]);
      if (version === '1.4') t.deepEqual(allNames, named);
      else {
        // 2.x: the two vendor attributes (as Attribute structures) first, then the standard ones.
        const vendor = new Set(['VendorIdentification', 'AttributeName', 'AttributeValue']);
        t.deepEqual(allNames.slice(0, 6), [...vendor, ...vendor]);
        t.deepEqual(allNames.filter((n) => n !== undefined && !vendor.has(n)).slice(0, 3), [
          'UniqueIdentifier',
          'ShortUniqueIdentifier',
          'ObjectType',
        ]);
      }
    },
  );
}
