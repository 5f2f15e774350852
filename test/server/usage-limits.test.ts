/**
 * Usage Limits (KMIP 1.4 §3.21, 2.1 §4.62) and Get Usage Allocation (1.4 §4.18, 2.1 §6.1.23) over real mutual
 * TLS: the server sets Usage Limits Count to the Total on creation; Encrypt, Sign and MAC draw the bytes (or the one
 * object) they protect from the Count and are refused with Permission Denied once too few are left (the CS-BC-M-7
 * profile vectors of 1.3 to 2.1); Decrypt and the verifications are not limited; Get Usage Allocation takes units out
 * of the Count and answers each refusal of 1.4 Table 345 / 2.1 Table 234 in the request's version.
 */
import { createCipheriv, createHmac, generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import { TestKmipClient } from '../support/kmip-client.js';
import {
  activeSinceAnHour,
  attributesXml,
  bytesXml,
  ecb,
  enumXml,
  parametersXml,
  pkcs1Sha256,
  uidXml,
  usage,
  usageLimits,
  v2,
  VersionedClient,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.0', '2.1'];

const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
const block = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
const cipherText = ((): Buffer => {
  const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
})();
const hmacKey = Buffer.from('0b'.repeat(32), 'hex');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** The key's Usage Limits Count, read back with Get Attributes. */
async function countOf(kmip: VersionedClient, uid: string): Promise<string | undefined> {
  const named = v2(kmip.version)
    ? enumXml('AttributeReference', 'UsageLimits')
    : '<AttributeName type="TextString" value="Usage Limits"/>';
  return (await kmip.must('GetAttributes', `${uidXml(uid)}${named}`)).value('UsageLimitsCount');
}

const encrypt = (kmip: VersionedClient, uid: string, data: Buffer = block) =>
  kmip.call('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', data)}`);
const allocate = (kmip: VersionedClient, uid: string, units: number) =>
  kmip.call('GetUsageAllocation', `${uidXml(uid)}<UsageLimitsCount type="LongInteger" value="${units}"/>`);

for (const version of versions) {
  test.serial(
    `${version}: on creation the Usage Limits Count is the Total, whatever Count is given`,
    async (t) => {
      const kmip = client(version);
      const created = await kmip.must(
        'Create',
        `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(version, [
          { tag: 'CryptographicAlgorithm', scalar: { type: 'Enumeration', value: 'AES' } },
          { tag: 'CryptographicLength', scalar: { type: 'Integer', value: '128' } },
          usageLimits(4096, 'Byte', 7),
        ])}`,
      );
      const createdUid = created.value('UniqueIdentifier') ?? '';
      t.is(await countOf(kmip, createdUid), '4096');
      const registered = await kmip.registerSymmetric(key, [
        usage('Encrypt'),
        usageLimits(64, 'Object', 99999),
      ]);
      t.is(await countOf(kmip, registered), '64');
    },
  );

  test.serial(`${version}: Encrypt draws the bytes it protects; Decrypt is not limited`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      activeSinceAnHour,
      usageLimits(40, 'Byte'),
    ]);
    t.is((await encrypt(kmip, uid)).bytes('Data').toString('hex'), cipherText.toString('hex'));
    t.is(await countOf(kmip, uid), '24');
    t.is((await encrypt(kmip, uid)).outcome, 'Success/-');
    t.is(await countOf(kmip, uid), '8');
    // 8 bytes left, 16 asked for: refused, and nothing is drawn.
    const refused = await encrypt(kmip, uid);
    t.is(refused.outcome, 'OperationFailed/PermissionDenied', refused.xml);
    t.false(refused.has('Data'));
    t.is(await countOf(kmip, uid), '8');
    // Processing protected data is not limited (§3.21).
    for (let i = 0; i < 3; i++) {
      const decrypted = await kmip.call('Decrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', cipherText)}`);
      t.is(decrypted.bytes('Data').toString('hex'), block.toString('hex'));
    }
    t.is(await countOf(kmip, uid), '8');
    // What is left is still usable, to the last byte.
    const eight = Buffer.from('0011223344556677', 'hex');
    const padded = parametersXml(enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', 'PKCS5'));
    const last = await kmip.call('Encrypt', `${uidXml(uid)}${padded}${bytesXml('Data', eight)}`);
    t.is(last.outcome, 'Success/-', last.xml);
    t.is(await countOf(kmip, uid), '0');
  });

  test.serial(`${version}: with the Object unit, each MAC and Sign uses one unit`, async (t) => {
    const kmip = client(version);
    const hmac = await kmip.registerSymmetric(
      hmacKey,
      [usage('MACGenerate MACVerify'), activeSinceAnHour, usageLimits(2, 'Object')],
      'HMAC_SHA256',
    );
    const data = Buffer.alloc(1000, 7);
    const expected = createHmac('sha256', hmacKey).update(data).digest('hex');
    const mac = () => kmip.call('MAC', `${uidXml(hmac)}${bytesXml('Data', data)}`);
    t.is((await mac()).bytes('MACData').toString('hex'), expected);
    t.is((await mac()).bytes('MACData').toString('hex'), expected);
    t.is((await mac()).outcome, 'OperationFailed/PermissionDenied');
    const verified = await kmip.call(
      'MACVerify',
      `${uidXml(hmac)}${bytesXml('Data', data)}${bytesXml('MACData', Buffer.from(expected, 'hex'))}`,
    );
    t.is(verified.value('ValidityIndicator'), 'Valid');

    const privateKey = await kmip.registerAsymmetric(
      'PrivateKey',
      'PKCS_8',
      rsa.privateKey.export({ format: 'der', type: 'pkcs8' }),
      'RSA',
      2048,
      [usage('Sign'), activeSinceAnHour, usageLimits(1, 'Object')],
    );
    const sign = () => kmip.call('Sign', `${uidXml(privateKey)}${pkcs1Sha256}${bytesXml('Data', data)}`);
    t.is((await sign()).outcome, 'Success/-');
    t.is((await sign()).outcome, 'OperationFailed/PermissionDenied');
    t.is(await countOf(kmip, privateKey), '0');
  });

  test.serial(`${version}: Get Usage Allocation takes units out of the Count`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      activeSinceAnHour,
      usageLimits(100, 'Byte'),
    ]);
    const granted = await allocate(kmip, uid, 60);
    t.is(granted.outcome, 'Success/-', granted.xml);
    t.is(granted.value('UniqueIdentifier'), uid);
    t.is(await countOf(kmip, uid), '40');
    const tooMuch = await allocate(kmip, uid, 41);
    t.is(tooMuch.outcome, `OperationFailed/${v2(version) ? 'UsageLimitExceeded' : 'PermissionDenied'}`);
    t.is(await countOf(kmip, uid), '40', 'a refused allocation takes nothing');
    t.is((await allocate(kmip, uid, 40)).outcome, 'Success/-');
    t.is(await countOf(kmip, uid), '0');
    // What was allocated is gone for the server's own operations too.
    t.is((await encrypt(kmip, uid)).outcome, 'OperationFailed/PermissionDenied');
  });

  test.serial(`${version}: Get Usage Allocation refusals (1.4 Table 345, 2.1 Table 234)`, async (t) => {
    const kmip = client(version);
    const unlimited = await kmip.registerSymmetric(key, [usage('Encrypt'), activeSinceAnHour]);
    t.is(
      (await allocate(kmip, unlimited, 1)).outcome,
      `OperationFailed/${v2(version) ? 'AttributeNotFound' : 'IllegalOperation'}`,
    );
    const preActive = await kmip.registerSymmetric(key, [usage('Encrypt'), usageLimits(10, 'Byte')]);
    t.is(
      (await allocate(kmip, preActive, 1)).outcome,
      `OperationFailed/${v2(version) ? 'PermissionDenied' : 'IllegalOperation'}`,
    );
    const stopped = await kmip.registerSymmetric(key, [
      usage('Encrypt'),
      activeSinceAnHour,
      { tag: 'ProtectStopDate', scalar: { type: 'DateTime', value: '$NOW-60' } },
      usageLimits(10, 'Byte'),
    ]);
    t.is(
      (await allocate(kmip, stopped, 1)).outcome,
      `OperationFailed/${v2(version) ? 'PermissionDenied' : 'IllegalOperation'}`,
    );
    const secret = await kmip.registerSecretData(Buffer.from('secret'), [usageLimits(10, 'Byte')]);
    t.is(
      (await allocate(kmip, secret, 1)).outcome,
      `OperationFailed/${v2(version) ? 'InvalidObjectType' : 'IllegalOperation'}`,
    );
    const noCount = await kmip.call('GetUsageAllocation', uidXml(unlimited));
    t.is(noCount.outcome, 'OperationFailed/InvalidMessage');
    t.is(
      (
        await kmip.call(
          'GetUsageAllocation',
          `${uidXml('no-such-object')}<UsageLimitsCount type="LongInteger" value="1"/>`,
        )
      ).outcome,
      `OperationFailed/${v2(version) ? 'ObjectNotFound' : 'ItemNotFound'}`,
    );
  });
}

/** Usage Limits as an attribute field of Add / Modify / Set Attribute: 1.x Attribute, 2.x New Attribute. */
function limitsField(version: Version, total: number, count?: number): string {
  const body =
    `<UsageLimitsTotal type="LongInteger" value="${total}"/>` +
    (count === undefined ? '' : `<UsageLimitsCount type="LongInteger" value="${count}"/>`) +
    enumXml('UsageLimitsUnit', 'Byte');
  return v2(version)
    ? `<NewAttribute><UsageLimits>${body}</UsageLimits></NewAttribute>`
    : `<Attribute><AttributeName type="TextString" value="Usage Limits"/><AttributeValue>${body}</AttributeValue></Attribute>`;
}

for (const version of versions) {
  const readOnly = `OperationFailed/${v2(version) ? 'AttributeReadOnly' : 'PermissionDenied'}`;

  test.serial(
    `${version}: clients change Usage Limits only until units are used, never the Count`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(key, [
        usage('Encrypt'),
        activeSinceAnHour,
        usageLimits(100, 'Byte'),
      ]);
      // Before any use, Total may change; the Count follows it, whatever Count is given.
      const modified = await kmip.call('ModifyAttribute', `${uidXml(uid)}${limitsField(version, 48, 999)}`);
      t.is(modified.outcome, 'Success/-', modified.xml);
      t.is(await countOf(kmip, uid), '48');
      t.is((await encrypt(kmip, uid)).outcome, 'Success/-');
      t.is(await countOf(kmip, uid), '32');
      // Once units are used, no change and no deletion: the limit cannot be reset.
      const again = await kmip.call('ModifyAttribute', `${uidXml(uid)}${limitsField(version, 1000, 1000)}`);
      t.is(again.outcome, readOnly, again.xml);
      const named = v2(version)
        ? enumXml('AttributeReference', 'UsageLimits')
        : '<AttributeName type="TextString" value="Usage Limits"/>';
      t.is((await kmip.call('DeleteAttribute', `${uidXml(uid)}${named}`)).outcome, readOnly);
      if (v2(version)) {
        const set = await kmip.call('SetAttribute', `${uidXml(uid)}${limitsField(version, 1000)}`);
        t.is(set.outcome, readOnly);
      }
      t.is(await countOf(kmip, uid), '32');
      // Added to a key that had none, the Count is the Total.
      const unlimited = await kmip.registerSymmetric(key, [usage('Encrypt'), activeSinceAnHour]);
      const added = await kmip.call('AddAttribute', `${uidXml(unlimited)}${limitsField(version, 16, 1)}`);
      t.is(added.outcome, 'Success/-', added.xml);
      t.is(await countOf(kmip, unlimited), '16');
      t.is((await encrypt(kmip, unlimited)).outcome, 'Success/-');
      t.is((await encrypt(kmip, unlimited)).outcome, 'OperationFailed/PermissionDenied');
      // Unused Usage Limits may be deleted, and the key is then not limited.
      const fresh = await kmip.registerSymmetric(key, [
        usage('Encrypt'),
        activeSinceAnHour,
        usageLimits(16, 'Byte'),
      ]);
      t.is((await kmip.call('DeleteAttribute', `${uidXml(fresh)}${named}`)).outcome, 'Success/-');
      for (let i = 0; i < 2; i++) t.is((await encrypt(kmip, fresh)).outcome, 'Success/-');
    },
  );
}

test.serial('concurrent Encrypts never spend more than the Usage Limits allow', async (t) => {
  const kmip = client('2.1');
  const uid = await kmip.registerSymmetric(key, [
    usage('Encrypt'),
    activeSinceAnHour,
    usageLimits(32, 'Byte'),
  ]);
  const connections = await Promise.all(
    [0, 1, 2, 3, 4, 5].map(() => TestKmipClient.connect(server().host, server().port, server())),
  );
  try {
    const answers = await Promise.all(connections.map((c) => encrypt(new VersionedClient(c, '2.1'), uid)));
    const succeeded = answers.filter((a) => a.status === 'Success').length;
    t.true(succeeded <= 2, `${succeeded} Encrypts of 16 bytes succeeded on a 32-byte limit`);
    t.true(succeeded >= 1);
    const left = Number(await countOf(kmip, uid));
    t.is(left, 32 - 16 * succeeded, 'the Count is what the successful Encrypts left');
  } finally {
    for (const c of connections) c.close();
  }
});

test.serial(
  '2.1: Encrypts at the same time on one limited key all draw their unit, none is lost or refused',
  async (t) => {
    const kmip = client('2.1');
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      activeSinceAnHour,
      usageLimits(20, 'Object'),
    ]);
    const connections = await Promise.all(
      Array.from({ length: 6 }, () => TestKmipClient.connect(server().host, server().port, server())),
    );
    try {
      const answers = await Promise.all(
        connections.flatMap((connection) => {
          const other = new VersionedClient(connection, '2.1');
          return [encrypt(other, uid), encrypt(other, uid)];
        }),
      );
      for (const answer of answers) t.is(answer.outcome, 'Success/-', answer.xml);
      t.is(await countOf(kmip, uid), '8', '12 of 20 units taken, each exactly once');
    } finally {
      for (const connection of connections) connection.close();
    }
  },
);
