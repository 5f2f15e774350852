/**
 * Re-key Key Pair (KMIP 1.4 §4.5, 2.1 §6.1.47) over real mutual TLS, at 1.4 and 2.1: a new pair from the token with
 * the same algorithm and size, each half taking over its predecessor's attributes and Names, Links within the new
 * pair and to the pair it replaces (and back), the new private key as ID placeholder, and the refusals of 1.4
 * Table 332 / 2.1 Table 312.
 */
import test from 'ava';
import { requestXml } from '../support/kmip-client.js';
import { allAttributes, linked, scalar, seconds, values } from '../support/attribute-answers.js';
import {
  activeSinceAnHour,
  Answer,
  attr,
  attributesXml,
  bytesXml,
  enumXml,
  nameAttr,
  parametersXml,
  structAttr,
  uidXml,
  usage,
  v2,
  VersionedClient,
  type AttributeSpec,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.1'];

const containers = {
  common: { v1: 'CommonTemplateAttribute', v2: 'CommonAttributes' },
  private: { v1: 'PrivateKeyTemplateAttribute', v2: 'PrivateKeyAttributes' },
  public: { v1: 'PublicKeyTemplateAttribute', v2: 'PublicKeyAttributes' },
} as const;
const ecdsa = parametersXml(enumXml('DigitalSignatureAlgorithm', 'ECDSAWithSHA256'));
const message = Buffer.from('the replacement pair signs and verifies');

function ecP256(version: Version): AttributeSpec[] {
  return [
    attr('CryptographicAlgorithm', 'Enumeration', 'EC'),
    v2(version)
      ? attr('RecommendedCurve', 'Enumeration', 'P_256')
      : structAttr('CryptographicDomainParameters', enumXml('RecommendedCurve', 'P_256')),
  ];
}

async function createPair(
  kmip: VersionedClient,
  common: readonly AttributeSpec[],
  privateOnly: readonly AttributeSpec[] = [],
  publicOnly: readonly AttributeSpec[] = [],
): Promise<{ privateUid: string; publicUid: string }> {
  const answer = await kmip.must(
    'CreateKeyPair',
    attributesXml(kmip.version, common, containers.common) +
      attributesXml(kmip.version, privateOnly, containers.private) +
      attributesXml(kmip.version, publicOnly, containers.public),
  );
  return {
    privateUid: answer.value('PrivateKeyUniqueIdentifier') ?? '',
    publicUid: answer.value('PublicKeyUniqueIdentifier') ?? '',
  };
}

function reKeyPair(
  kmip: VersionedClient,
  privateUid: string,
  options: { privateOnly?: AttributeSpec[]; common?: AttributeSpec[]; offset?: number } = {},
): Promise<Answer> {
  const offset = options.offset === undefined ? '' : `<Offset type="Interval" value="${options.offset}"/>`;
  const common = options.common ? attributesXml(kmip.version, options.common, containers.common) : '';
  const privateOnly = options.privateOnly
    ? attributesXml(kmip.version, options.privateOnly, containers.private)
    : '';
  return kmip.call(
    'ReKeyKeyPair',
    `<PrivateKeyUniqueIdentifier type="TextString" value="${privateUid}"/>${offset}${common}${privateOnly}`,
  );
}

for (const version of versions) {
  test.serial(`${version}: a new pair that takes over the old one's attributes and Names`, async (t) => {
    const kmip = client(version);
    const old = await createPair(
      kmip,
      [...ecP256(version), activeSinceAnHour],
      [usage('Sign'), nameAttr(`pair-${version}-private`)],
      [usage('Verify'), nameAttr(`pair-${version}-public`)],
    );
    const oldPrivate = await allAttributes(kmip, old.privateUid);
    const answer = await reKeyPair(kmip, old.privateUid, {
      privateOnly: [nameAttr(`pair-${version}-private-2`)],
    });
    t.is(answer.outcome, 'Success/-', answer.xml);
    const privateUid = answer.value('PrivateKeyUniqueIdentifier') ?? '';
    const publicUid = answer.value('PublicKeyUniqueIdentifier') ?? '';
    t.not(privateUid, old.privateUid);
    t.not(publicUid, old.publicUid);

    const newPrivate = await allAttributes(kmip, privateUid);
    t.deepEqual(values(newPrivate, 'NameValue'), [`pair-${version}-private`, `pair-${version}-private-2`]);
    t.is(scalar(newPrivate, version, 'ObjectType'), 'PrivateKey');
    t.is(scalar(newPrivate, version, 'CryptographicAlgorithm'), 'EC');
    t.is(scalar(newPrivate, version, 'CryptographicLength'), '256');
    t.is(scalar(newPrivate, version, 'State'), 'Active');
    t.is(scalar(newPrivate, version, 'ActivationDate'), scalar(oldPrivate, version, 'ActivationDate'));
    t.is(
      scalar(newPrivate, version, 'CryptographicUsageMask'),
      scalar(oldPrivate, version, 'CryptographicUsageMask'),
    );
    t.deepEqual(linked(newPrivate, 'PublicKeyLink'), [publicUid]);
    t.deepEqual(linked(newPrivate, 'ReplacedObjectLink'), [old.privateUid]);

    const newPublic = await allAttributes(kmip, publicUid);
    t.deepEqual(values(newPublic, 'NameValue'), [`pair-${version}-public`]);
    t.is(scalar(newPublic, version, 'ObjectType'), 'PublicKey');
    t.deepEqual(linked(newPublic, 'PrivateKeyLink'), [privateUid]);
    t.deepEqual(linked(newPublic, 'ReplacedObjectLink'), [old.publicUid]);

    const oldPrivateAfter = await allAttributes(kmip, old.privateUid);
    const oldPublicAfter = await allAttributes(kmip, old.publicUid);
    t.deepEqual(values(oldPrivateAfter, 'NameValue'), []);
    t.deepEqual(values(oldPublicAfter, 'NameValue'), []);
    t.deepEqual(linked(oldPrivateAfter, 'ReplacementObjectLink'), [privateUid]);
    t.deepEqual(linked(oldPublicAfter, 'ReplacementObjectLink'), [publicUid]);
    t.deepEqual(linked(oldPrivateAfter, 'PublicKeyLink'), [old.publicUid], 'the old pair stays a pair');

    // A new key pair: the new private key signs, its public key verifies, the old public key does not.
    const signed = await kmip.must('Sign', `${uidXml(privateUid)}${ecdsa}${bytesXml('Data', message)}`);
    const verify = (uid: string) =>
      kmip.call(
        'SignatureVerify',
        `${uidXml(uid)}${ecdsa}${bytesXml('Data', message)}${bytesXml('SignatureData', signed.bytes('SignatureData'))}`,
      );
    t.is((await verify(publicUid)).value('ValidityIndicator'), 'Valid');
    t.is((await verify(old.publicUid)).value('ValidityIndicator'), 'Invalid');
  });

  test.serial(`${version}: the new private key becomes the ID placeholder`, async (t) => {
    const kmip = client(version);
    const old = await createPair(kmip, ecP256(version));
    const xml = await connection().requestXml(
      requestXml(
        version,
        `<BatchItem>${enumXml('Operation', 'ReKeyKeyPair')}<RequestPayload><PrivateKeyUniqueIdentifier type="TextString" value="${old.privateUid}"/></RequestPayload></BatchItem>
         <BatchItem>${enumXml('Operation', 'GetAttributeList')}<RequestPayload></RequestPayload></BatchItem>`,
      ),
    );
    const answer = new Answer(xml);
    t.is(answer.value('ResultStatus', 1), 'Success', xml);
    t.is(answer.value('UniqueIdentifier'), answer.value('PrivateKeyUniqueIdentifier'));
  });

  test.serial(
    `${version}: an Offset moves the Activation and Deactivation Dates of both halves`,
    async (t) => {
      const kmip = client(version);
      const old = await createPair(kmip, [
        ...ecP256(version),
        activeSinceAnHour,
        attr('DeactivationDate', 'DateTime', '$NOW+3600'),
      ]);
      const before = await allAttributes(kmip, old.publicUid);
      const answer = await reKeyPair(kmip, old.privateUid, { offset: 120 });
      t.is(answer.outcome, 'Success/-', answer.xml);
      for (const uid of [
        answer.value('PrivateKeyUniqueIdentifier'),
        answer.value('PublicKeyUniqueIdentifier'),
      ]) {
        const got = await allAttributes(kmip, uid ?? '');
        const activation = seconds(got, version, 'ActivationDate') ?? 0;
        t.is(activation, (seconds(got, version, 'InitialDate') ?? 0) + 120);
        const shift = activation - (seconds(before, version, 'ActivationDate') ?? 0);
        t.is(
          seconds(got, version, 'DeactivationDate'),
          (seconds(before, version, 'DeactivationDate') ?? 0) + shift,
        );
        t.is(scalar(got, version, 'State'), 'PreActive');
      }
    },
  );

  test.serial(`${version}: refusals (1.4 Table 332, 2.1 Table 312)`, async (t) => {
    const kmip = client(version);
    const pair = await createPair(kmip, ecP256(version));
    const notPrivate = `OperationFailed/${v2(version) ? 'InvalidObjectType' : 'PermissionDenied'}`;
    t.is((await reKeyPair(kmip, pair.publicUid)).outcome, notPrivate, 'a public key names no pair');
    const symmetric = await kmip.registerSymmetric(Buffer.alloc(16, 1), [usage('Encrypt')]);
    t.is((await reKeyPair(kmip, symmetric)).outcome, notPrivate);
    t.is(
      (
        await reKeyPair(kmip, pair.privateUid, {
          common: [attr('ActivationDate', 'DateTime', '$NOW')],
          offset: 60,
        })
      ).outcome,
      'OperationFailed/InvalidMessage',
    );
    t.is(
      (await reKeyPair(kmip, 'no-such-key')).outcome,
      `OperationFailed/${v2(version) ? 'ObjectNotFound' : 'ItemNotFound'}`,
    );
    await kmip.must('Destroy', uidXml(pair.privateUid));
    t.is((await reKeyPair(kmip, pair.privateUid)).outcome, 'OperationFailed/PermissionDenied');
    // Refused, the pair is unchanged: its public key keeps no Replacement Link.
    t.deepEqual(linked(await allAttributes(kmip, pair.publicUid), 'ReplacementObjectLink'), []);
  });
}

test.serial('an RSA pair is replaced by an RSA pair of the same size', async (t) => {
  const kmip = client('2.1');
  const old = await createPair(kmip, [
    attr('CryptographicAlgorithm', 'Enumeration', 'RSA'),
    attr('CryptographicLength', 'Integer', '2048'),
  ]);
  const answer = await reKeyPair(kmip, old.privateUid);
  t.is(answer.outcome, 'Success/-', answer.xml);
  const got = await allAttributes(kmip, answer.value('PublicKeyUniqueIdentifier') ?? '');
  t.is(scalar(got, '2.1', 'CryptographicAlgorithm'), 'RSA');
  t.is(scalar(got, '2.1', 'CryptographicLength'), '2048');
  const material = await kmip.keyMaterial(answer.value('PublicKeyUniqueIdentifier') ?? '');
  t.notDeepEqual(material, await kmip.keyMaterial(old.publicUid));
});
