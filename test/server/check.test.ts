/**
 * Check (KMIP 1.4 §4.10, 2.1 §6.1.7) over real mutual TLS: the Unique Identifier when the object may be used as the
 * request says (usage mask, Usage Limits Count, Lease Time), a refusal naming what was refused otherwise (2.1
 * Incompatible Cryptographic Usage Mask and Usage Limit Exceeded, as the BL-M-2/BL-M-3 vectors expect; Permission
 * Denied in 1.x), with the ID placeholder emptied so that a batched Get that follows finds nothing.
 */
import test from 'ava';
import { requestXml } from '../support/kmip-client.js';
import {
  activeSinceAnHour,
  Answer,
  attr,
  attributesXml,
  bytesXml,
  ecb,
  enumXml,
  uidXml,
  usage,
  usageLimits,
  v2,
  VersionedClient,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.0', '2.1'];
const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const limits = usageLimits(100, 'Byte');

const maskXml = (mask: string): string => `<CryptographicUsageMask type="Integer" value="${mask}"/>`;
const countXml = (n: number): string => `<UsageLimitsCount type="LongInteger" value="${n}"/>`;
const check = (kmip: VersionedClient, uid: string, fields: string): Promise<Answer> =>
  kmip.call('Check', `${uidXml(uid)}${fields}`);

for (const version of versions) {
  const maskRefused = `OperationFailed/${v2(version) ? 'IncompatibleCryptographicUsageMask' : 'PermissionDenied'}`;
  const countRefused = `OperationFailed/${v2(version) ? 'UsageLimitExceeded' : 'PermissionDenied'}`;
  // An unknown Unique Identifier: Object Not Found in 2.x (BL-M-4-21), Item Not Found in 1.x.
  const notFound = `OperationFailed/${v2(version) ? 'ObjectNotFound' : 'ItemNotFound'}`;

  test.serial(`${version}: the Cryptographic Usage Mask asked for must be within the object's`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [usage('Decrypt'), activeSinceAnHour]);
    const allowed = await check(kmip, uid, maskXml('Decrypt'));
    t.is(allowed.outcome, 'Success/-', allowed.xml);
    t.is(allowed.value('UniqueIdentifier'), uid);
    const refused = await check(kmip, uid, maskXml('Encrypt'));
    t.is(refused.outcome, maskRefused, refused.xml);
    t.false(refused.has('UniqueIdentifier'));
    t.is(
      (await check(kmip, uid, maskXml('Encrypt Decrypt'))).outcome,
      maskRefused,
      'every bit must be allowed',
    );
    // Nothing asked for, nothing refused.
    t.is((await check(kmip, uid, '')).outcome, 'Success/-');
  });

  test.serial(
    `${version}: the Usage Limits Count asked for must be left, and Check spends none`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(key, [usage('Encrypt'), activeSinceAnHour, limits]);
      t.is((await check(kmip, uid, countXml(100))).outcome, 'Success/-');
      t.is((await check(kmip, uid, countXml(101))).outcome, countRefused);
      await kmip.must('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', Buffer.alloc(32))}`);
      t.is((await check(kmip, uid, countXml(69))).outcome, countRefused);
      for (let i = 0; i < 3; i++) t.is((await check(kmip, uid, countXml(68))).outcome, 'Success/-');
      // A key without Usage Limits is not limited.
      const unlimited = await kmip.registerSymmetric(key, [usage('Encrypt'), activeSinceAnHour]);
      t.is((await check(kmip, unlimited, countXml(1_000_000_000))).outcome, 'Success/-');
    },
  );

  test.serial(
    `${version}: a lease up to the object's Lease Time, and nothing for a destroyed object`,
    async (t) => {
      const kmip = client(version);
      const uid = await kmip.registerSymmetric(key, [usage('Encrypt')]);
      t.is((await check(kmip, uid, '<LeaseTime type="Interval" value="3600"/>')).outcome, 'Success/-');
      const longer = await check(kmip, uid, '<LeaseTime type="Interval" value="3601"/>');
      t.is(longer.outcome, 'OperationFailed/PermissionDenied', longer.xml);
      t.regex(longer.xml, /the longest lease for object .* is 3600 seconds, shorter than 3601/);
      await kmip.must('Destroy', uidXml(uid));
      t.is((await check(kmip, uid, maskXml('Encrypt'))).outcome, 'OperationFailed/PermissionDenied');
      t.is((await check(kmip, 'no-such-object', '')).outcome, notFound);
    },
  );

  test.serial(`${version}: a refusal empties the ID placeholder; a success keeps it`, async (t) => {
    const created = (mask: string): string =>
      `<BatchItem>${enumXml('Operation', 'Create')}<RequestPayload>${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(
        version,
        [
          attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
          attr('CryptographicLength', 'Integer', '128'),
          usage(mask),
        ],
      )}</RequestPayload></BatchItem>`;
    const item = (operation: string, payload = ''): string =>
      `<BatchItem>${enumXml('Operation', operation)}<RequestPayload>${payload}</RequestPayload></BatchItem>`;
    const batch = async (mask: string, checked: string): Promise<string> =>
      connection().requestXml(
        requestXml(
          version,
          created(mask) + item('Check', maskXml(checked)) + item('GetAttributeList'),
          enumXml('BatchErrorContinuationOption', 'Continue'),
        ),
      );
    const ok = await batch('Encrypt Decrypt', 'Encrypt');
    const statuses = (xml: string): string[] =>
      [...xml.matchAll(/<ResultStatus type="Enumeration" value="([^"]+)"\/>/g)].map(([, s]) => s ?? '');
    t.deepEqual(statuses(ok), ['Success', 'Success', 'Success'], ok);
    const refused = await batch('Decrypt', 'Encrypt');
    t.deepEqual(statuses(refused), ['Success', 'OperationFailed', 'OperationFailed'], refused);
    t.regex(refused, /Unique Identifier is missing/);
  });
}
