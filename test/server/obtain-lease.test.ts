/**
 * Obtain Lease (KMIP 1.4 §4.17, 2.1 §6.1.35) over real mutual TLS: the object's Lease Time (the hour this server sets
 * on every cryptographic object; 0, "no lease interval is effective", for an Opaque Object, which has none) and the
 * object's current Last Change Date, without changing the object; no lease for a destroyed object (1.4 Table 344:
 * Permission Denied).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { requestXml } from '../support/kmip-client.js';
import {
  Answer,
  attributesXml,
  attr,
  enumXml,
  uidXml,
  usage,
  VersionedClient,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.1'];
const key = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');

/** The Last Change Date of an object as Get Attributes tells it. */
async function lastChange(kmip: VersionedClient, uid: string): Promise<string | undefined> {
  const named = kmip.version.startsWith('2.')
    ? enumXml('AttributeReference', 'LastChangeDate')
    : '<AttributeName type="TextString" value="Last Change Date"/>';
  const answer = await kmip.must('GetAttributes', `${uidXml(uid)}${named}`);
  const payload = answer.xml.slice(answer.xml.indexOf('<ResponsePayload>'));
  return /type="DateTime" value="([^"]+)"/.exec(payload)?.[1];
}

for (const version of versions) {
  test.serial(`${version}: the server's lease, and the Last Change Date as it stands`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt')]);
    await sleep(1100); // so that a change made now has a Last Change Date other than the Initial Date
    await kmip.must('Activate', uidXml(uid));
    const changed = await lastChange(kmip, uid);
    const lease = await kmip.call('ObtainLease', uidXml(uid));
    t.is(lease.outcome, 'Success/-', lease.xml);
    t.is(lease.value('UniqueIdentifier'), uid);
    t.is(lease.value('LeaseTime'), '3600', 'the Lease Time the server set at Register (KMIP 1.4 §3.20)');
    t.is(lease.value('LastChangeDate'), changed);
    t.not(changed, undefined);
    // Obtaining a lease changes nothing.
    await sleep(1100);
    t.is((await kmip.call('ObtainLease', uidXml(uid))).value('LastChangeDate'), changed);
    t.is(await lastChange(kmip, uid), changed);
  });

  test.serial(`${version}: an Opaque Object has no Lease Time, and its lease is unlimited`, async (t) => {
    const kmip = client(version);
    const registered = await kmip.must(
      'Register',
      `${enumXml('ObjectType', 'OpaqueObject')}${attributesXml(version, [])}
       <OpaqueObject><OpaqueDataType type="Enumeration" value="0x80000001"/>
         <OpaqueDataValue type="ByteString" value="0102030405"/></OpaqueObject>`,
    );
    const uid = registered.value('UniqueIdentifier') ?? '';
    const lease = await kmip.call('ObtainLease', uidXml(uid));
    t.is(lease.outcome, 'Success/-', lease.xml);
    t.is(lease.value('LeaseTime'), '0');
  });

  test.serial(`${version}: no lease for a destroyed object, or one that does not exist`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt')]);
    await kmip.must('Destroy', uidXml(uid));
    t.is((await kmip.call('ObtainLease', uidXml(uid))).outcome, 'OperationFailed/PermissionDenied');
    // An unknown Unique Identifier: Object Not Found in 2.x (BL-M-4-21), Item Not Found in 1.x.
    t.is(
      (await kmip.call('ObtainLease', uidXml('no-such-object'))).outcome,
      `OperationFailed/${version.startsWith('2.') ? 'ObjectNotFound' : 'ItemNotFound'}`,
    );
  });

  test.serial(`${version}: the lease of the object a batch just created (ID placeholder)`, async (t) => {
    const xml = await connection().requestXml(
      requestXml(
        version,
        `<BatchItem>${enumXml('Operation', 'Create')}<RequestPayload>${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(
          version,
          [
            attr('CryptographicAlgorithm', 'Enumeration', 'AES'),
            attr('CryptographicLength', 'Integer', '256'),
          ],
        )}</RequestPayload></BatchItem>
         <BatchItem>${enumXml('Operation', 'ObtainLease')}<RequestPayload></RequestPayload></BatchItem>`,
      ),
    );
    const answer = new Answer(xml);
    t.is(answer.value('ResultStatus', 1), 'Success', xml);
    t.is(answer.value('UniqueIdentifier', 1), answer.value('UniqueIdentifier', 0));
    t.is(answer.value('LeaseTime'), '3600');
  });
}
