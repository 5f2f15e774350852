/**
 * Re-key (KMIP 1.4 §4.4, 2.1 §6.1.46) over real mutual TLS, at 1.4 and 2.1: the replacement is a new key from the
 * token with the existing key's attributes (Names moved over, the request's added), dates copied or moved by the
 * Offset (Table 172), Usage Limits full again, server-set attributes set anew, Links both ways, the replacement as
 * ID placeholder; and the refusals of 1.4 Table 331 / 2.1 Table 307 in each version's words.
 */
import test from 'ava';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';
import { allAttributes, holds, linked, scalar, seconds, values } from '../support/attribute-answers.js';
import {
  activeSinceAnHour,
  attr,
  attributesXml,
  bytesXml,
  customAttr,
  ecb,
  enumXml,
  nameAttr,
  uidXml,
  usage,
  usageLimits,
  v2,
  VersionedClient,
  Answer,
  type AttributeSpec,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.1'];

const aes128 = [
  attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
  attr('CryptographicLength', 'Integer', '128'),
];

async function create(kmip: VersionedClient, attributes: readonly AttributeSpec[]): Promise<string> {
  const answer = await kmip.must(
    'Create',
    `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(kmip.version, [...aes128, ...attributes])}`,
  );
  return answer.value('UniqueIdentifier') ?? '';
}

function reKey(
  kmip: VersionedClient,
  uid: string,
  attributes: readonly AttributeSpec[] = [],
  offset?: number,
): Promise<Answer> {
  const offsetXml = offset === undefined ? '' : `<Offset type="Interval" value="${offset}"/>`;
  const container = attributes.length === 0 ? '' : attributesXml(kmip.version, attributes);
  return kmip.call('ReKey', `${uidXml(uid)}${offsetXml}${container}`);
}

const block = Buffer.alloc(16, 0x5a);

for (const version of versions) {
  test.serial(
    `${version}: the replacement takes over the key's attributes and Names, with Links both ways`,
    async (t) => {
      const kmip = client(version);
      const old = await create(kmip, [
        usage('Encrypt Decrypt'),
        activeSinceAnHour,
        attr('ProtectStopDate', 'DateTime', '$NOW+7200'),
        nameAttr(`rekey-${version}-original`),
        attr('ObjectGroup', 'TextString', `group-${version}`),
        customAttr(version, 'purpose', 'backups'),
        usageLimits(100, 'Byte'),
      ]);
      // Serve it (Fresh turns False) and spend some of its limit: the replacement is Fresh and has all of it.
      await kmip.keyMaterial(old);
      t.is(
        (await kmip.call('Encrypt', `${uidXml(old)}${ecb}${bytesXml('Data', block)}`)).outcome,
        'Success/-',
      );
      const before = await allAttributes(kmip, old);

      const answer = await reKey(kmip, old, [nameAttr(`rekey-${version}-second`)]);
      t.is(answer.outcome, 'Success/-', answer.xml);
      const replacement = answer.value('UniqueIdentifier') ?? '';
      t.not(replacement, old);

      const got = await allAttributes(kmip, replacement);
      t.deepEqual(values(got, 'NameValue'), [`rekey-${version}-original`, `rekey-${version}-second`]);
      t.is(scalar(got, version, 'State'), 'Active', 'its Activation Date, copied, has passed');
      t.is(scalar(got, version, 'ActivationDate'), scalar(before, version, 'ActivationDate'));
      t.is(scalar(got, version, 'ProtectStopDate'), scalar(before, version, 'ProtectStopDate'));
      t.is(scalar(got, version, 'CryptographicAlgorithm'), 'AES');
      t.is(scalar(got, version, 'CryptographicLength'), '128');
      t.is(scalar(got, version, 'CryptographicUsageMask'), scalar(before, version, 'CryptographicUsageMask'));
      t.is(scalar(got, version, 'ObjectGroup'), `group-${version}`);
      t.true(got.xml.includes('value="backups"'), 'custom attributes are copied');
      t.is(before.value('UsageLimitsCount'), '84');
      t.is(got.value('UsageLimitsTotal'), '100');
      t.is(got.value('UsageLimitsCount'), '100');
      t.is(scalar(before, version, 'Fresh'), 'false');
      t.is(scalar(got, version, 'Fresh'), 'true');
      t.is(got.xml.match(/Fresh/g)?.length, 1, 'one Fresh instance');
      t.deepEqual(linked(got, 'ReplacedObjectLink'), [old]);
      t.deepEqual(linked(got, 'ReplacementObjectLink'), []);
      t.not(got.value('DigestValue'), before.value('DigestValue'), 'the Digest is of the new key');
      t.true(
        (seconds(got, version, 'InitialDate') ?? 0) >= (seconds(before, version, 'InitialDate') ?? Infinity),
      );
      t.is(values(got, 'UniqueIdentifier')[0], replacement);

      const after = await allAttributes(kmip, old);
      t.deepEqual(values(after, 'NameValue'), [], 'the existing key loses its Names');
      t.deepEqual(linked(after, 'ReplacementObjectLink'), [replacement]);
      t.is(scalar(after, version, 'State'), 'Active', 'the existing key keeps its state');
      t.is(after.value('UsageLimitsCount'), '84', 'and what it has left');

      // A new key: different material, usable at once.
      const oldKey = await kmip.keyMaterial(old);
      const newKey = await kmip.keyMaterial(replacement);
      t.is(newKey.length, 16);
      t.notDeepEqual(newKey, oldKey);
      const encrypted = await kmip.call('Encrypt', `${uidXml(replacement)}${ecb}${bytesXml('Data', block)}`);
      t.is(encrypted.outcome, 'Success/-', encrypted.xml);
    },
  );

  test.serial(`${version}: the replacement becomes the ID placeholder`, async (t) => {
    const kmip = client(version);
    const old = await create(kmip, [usage('Encrypt'), nameAttr(`placeholder-${version}`)]);
    const names = v2(version)
      ? enumXml('AttributeReference', 'Name')
      : '<AttributeName type="TextString" value="Name"/>';
    const xml = await connection().requestXml(
      requestXml(
        version,
        `<BatchItem>${enumXml('Operation', 'ReKey')}<RequestPayload>${uidXml(old)}</RequestPayload></BatchItem>
         <BatchItem>${enumXml('Operation', 'GetAttributes')}<RequestPayload>${names}</RequestPayload></BatchItem>`,
      ),
    );
    const answer = new Answer(xml);
    const replacement = answer.value('UniqueIdentifier', 0);
    t.not(replacement, old);
    t.is(answer.value('UniqueIdentifier', 1), replacement, xml);
    t.is(answer.value('NameValue'), `placeholder-${version}`);
  });

  test.serial(
    `${version}: an Offset sets the Activation Date and moves the other dates with it`,
    async (t) => {
      const kmip = client(version);
      const old = await create(kmip, [
        usage('Encrypt'),
        activeSinceAnHour,
        attr('DeactivationDate', 'DateTime', '$NOW+3600'),
      ]);
      const before = await allAttributes(kmip, old);
      const start = Math.floor(Date.now() / 1000);
      const answer = await reKey(kmip, old, [], 600);
      const end = Math.ceil(Date.now() / 1000);
      t.is(answer.outcome, 'Success/-', answer.xml);
      const got = await allAttributes(kmip, answer.value('UniqueIdentifier') ?? '');
      const initial = seconds(got, version, 'InitialDate') ?? 0;
      const activation = seconds(got, version, 'ActivationDate') ?? 0;
      t.true(initial >= start && initial <= end);
      t.is(activation, initial + 600, 'Activation Date = Initial Date + Offset');
      const shift = activation - (seconds(before, version, 'ActivationDate') ?? 0);
      t.is(
        seconds(got, version, 'DeactivationDate'),
        (seconds(before, version, 'DeactivationDate') ?? 0) + shift,
      );
      t.is(scalar(got, version, 'State'), 'PreActive', 'its Activation Date is ahead');
      // Without an Offset nothing moves (the first test), and without dates an Offset only sets the Activation Date.
      const undated = await create(kmip, [usage('Encrypt')]);
      const plain = await reKey(kmip, undated, [], 0);
      const fresh = await allAttributes(kmip, plain.value('UniqueIdentifier') ?? '');
      t.is(seconds(fresh, version, 'ActivationDate'), seconds(fresh, version, 'InitialDate'));
      t.is(scalar(fresh, version, 'State'), 'Active', 'an Offset of 0 activates at once');
    },
  );

  test.serial(`${version}: refusals (1.4 Table 331, 2.1 Table 307)`, async (t) => {
    const kmip = client(version);
    const key = await create(kmip, [usage('Encrypt'), activeSinceAnHour]);
    const both = await reKey(kmip, key, [attr('ActivationDate', 'DateTime', '$NOW')], 60);
    t.is(both.outcome, 'OperationFailed/InvalidMessage', 'an Offset beside a date');

    const noActivation = await create(kmip, [
      usage('Encrypt'),
      attr('DeactivationDate', 'DateTime', '$NOW+3600'),
    ]);
    t.is(
      (await reKey(kmip, noActivation, [], 60)).outcome,
      `OperationFailed/${v2(version) ? 'InvalidField' : 'IllegalOperation'}`,
      'an Offset with dates to move and no Activation Date to move them by',
    );

    const secret = await kmip.registerSecretData(Buffer.from('secret'), []);
    t.is(
      (await reKey(kmip, secret)).outcome,
      `OperationFailed/${v2(version) ? 'InvalidObjectType' : 'PermissionDenied'}`,
    );

    const destroyed = await create(kmip, [usage('Encrypt')]);
    await kmip.must('Destroy', uidXml(destroyed));
    t.is((await reKey(kmip, destroyed)).outcome, 'OperationFailed/PermissionDenied');
    t.is(
      (await reKey(kmip, 'no-such-key')).outcome,
      `OperationFailed/${v2(version) ? 'ObjectNotFound' : 'ItemNotFound'}`,
    );
    // A refused Re-key changes nothing: the key keeps its Names and gets no Link.
    const named = await create(kmip, [usage('Encrypt'), activeSinceAnHour, nameAttr(`kept-${version}`)]);
    t.is(
      (await reKey(kmip, named, [attr('CryptographicLength', 'Integer', '100')])).outcome,
      'OperationFailed/InvalidField',
    );
    const unchanged = await allAttributes(kmip, named);
    t.deepEqual(values(unchanged, 'NameValue'), [`kept-${version}`]);
    t.deepEqual(linked(unchanged, 'ReplacementObjectLink'), []);
  });

  test.serial(`${version}: a compromised key's replacement carries none of the compromise`, async (t) => {
    const kmip = client(version);
    const old = await create(kmip, [usage('Encrypt'), activeSinceAnHour]);
    await kmip.revoke(old, 'KeyCompromise');
    const answer = await reKey(kmip, old);
    t.is(answer.outcome, 'Success/-', answer.xml);
    const got = await allAttributes(kmip, answer.value('UniqueIdentifier') ?? '');
    t.is(scalar(got, version, 'State'), 'Active');
    t.false(holds(got, version, 'CompromiseDate'));
    t.false(holds(got, version, 'CompromiseOccurrenceDate'));
    t.false(holds(got, version, 'RevocationReason'));
  });
}

test.serial("another principal's key cannot be re-keyed: it does not exist for the caller", async (t) => {
  const admin = client('2.1');
  const key = await create(admin, [usage('Encrypt'), nameAttr('not-yours')]);
  const files = await server().issueClient('tenant-rekey');
  const other = await TestKmipClient.connect(server().host, server().port, files);
  try {
    const answer = await reKey(new VersionedClient(other, '2.1'), key);
    t.is(answer.outcome, 'OperationFailed/ObjectNotFound', 'as for an unknown Unique Identifier in 2.1');
    t.deepEqual(values(await allAttributes(admin, key), 'NameValue'), ['not-yours']);
  } finally {
    other.close();
  }
});
