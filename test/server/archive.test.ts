/**
 * Archive (KMIP 1.4 §4.22, 2.1 §6.1.4) and Recover (1.4 §4.23, 2.1 §6.1.42) over real mutual TLS: an archived
 * object keeps its material but is Object Archived to every operation until it is recovered ("any archived object
 * SHALL first be made available by a Recover operation"), Locate finds it only in a search of archival storage
 * (Storage Status Mask), and Recover brings it back as it was, Archive Date gone (§3.32).
 */
import test from 'ava';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';
import {
  activeSinceAnHour,
  Answer,
  attr,
  bytesXml,
  ecb,
  enumXml,
  located,
  locate,
  nameAttr,
  uidXml,
  usage,
  VersionedClient,
  type Version,
} from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, connection, client } = serverFixture(test);

const versions: readonly Version[] = ['1.4', '2.1'];
const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

for (const version of versions) {
  test.serial(`${version}: an archived object is Object Archived to everything but Recover`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [
      usage('Encrypt Decrypt'),
      activeSinceAnHour,
      nameAttr(`archived-${version}`),
    ]);
    const archived = await kmip.call('Archive', uidXml(uid));
    t.is(archived.outcome, 'Success/-', archived.xml);
    t.is(archived.value('UniqueIdentifier'), uid);

    const refused: [string, string][] = [
      ['Get', uidXml(uid)],
      ['GetAttributes', uidXml(uid)],
      ['GetAttributeList', uidXml(uid)],
      ['Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', Buffer.alloc(16))}`],
      ['ObtainLease', uidXml(uid)],
      ['Check', uidXml(uid)],
      ['ReKey', uidXml(uid)],
      ['Archive', uidXml(uid)],
      ['Destroy', uidXml(uid)],
    ];
    for (const [operation, payload] of refused) {
      const answer = await kmip.call(operation, payload);
      t.is(answer.outcome, 'OperationFailed/ObjectArchived', `${operation}: ${answer.xml}`);
    }

    const recovered = await kmip.call('Recover', uidXml(uid));
    t.is(recovered.outcome, 'Success/-', recovered.xml);
    t.is(recovered.value('UniqueIdentifier'), uid);
    // Back as it was: same key, same attributes, no Archive Date.
    t.deepEqual(await kmip.keyMaterial(uid), key);
    const attributes = await kmip.must('GetAttributes', uidXml(uid));
    t.false(attributes.has('ArchiveDate'));
    t.false(attributes.xml.includes('Archive Date'));
    t.is(attributes.value('NameValue'), `archived-${version}`);
    const encrypted = await kmip.call('Encrypt', `${uidXml(uid)}${ecb}${bytesXml('Data', Buffer.alloc(16))}`);
    t.is(encrypted.outcome, 'Success/-');
    // Recovering an object that is on-line changes nothing.
    t.is((await kmip.call('Recover', uidXml(uid))).outcome, 'Success/-');
    t.deepEqual(await kmip.keyMaterial(uid), key);
  });

  test.serial(`${version}: Locate finds archived objects only in archival storage`, async (t) => {
    const kmip = client(version);
    const objectName = `locate-archived-${version}`;
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt'), nameAttr(objectName)]);
    t.deepEqual(await locate(kmip, [nameAttr(objectName)]), [uid]);
    await kmip.must('Archive', uidXml(uid));
    t.deepEqual(await locate(kmip, [nameAttr(objectName)]), [], 'on-line only when no mask is given');
    t.deepEqual(await locate(kmip, [nameAttr(objectName)], { mask: 'OnLineStorage' }), []);
    t.deepEqual(await locate(kmip, [nameAttr(objectName)], { mask: 'ArchivalStorage' }), [uid]);
    t.deepEqual(await locate(kmip, [nameAttr(objectName)], { mask: 'OnLineStorage ArchivalStorage' }), [uid]);
    await kmip.must('Recover', uidXml(uid));
    t.deepEqual(await locate(kmip, [nameAttr(objectName)]), [uid]);
    t.deepEqual(await locate(kmip, [nameAttr(objectName)], { mask: 'ArchivalStorage' }), []);
  });

  test.serial(`${version}: Maximum Items counts on-line objects only`, async (t) => {
    const kmip = client(version);
    const group = attr('ObjectGroup', 'TextString', `paging-${version}`);
    const uids: string[] = [];
    for (let i = 0; i < 4; i++) uids.push(await kmip.registerSymmetric(key, [usage('Encrypt'), group]));
    const [oldest, second, third, newest] = uids;
    await kmip.must('Archive', uidXml(newest ?? ''));
    await kmip.must('Archive', uidXml(third ?? ''));
    // Newest first: the two archived ones are the first two candidates, and the page still holds two objects.
    t.deepEqual(await locate(kmip, [group], { max: 2 }), [second, oldest]);
    t.deepEqual(await locate(kmip, [group], { max: 1, mask: 'ArchivalStorage' }), [newest]);
    t.deepEqual(await locate(kmip, [group]), [second, oldest]);
    // Paging with Offset Items: the page is cut from the on-line objects, and Located Items counts them all.
    t.deepEqual(await located(kmip, [group], { max: 1, offset: 1 }), { uids: [oldest ?? ''], count: '2' });
    t.deepEqual(await located(kmip, [group], { max: 1, offset: 0 }), { uids: [second ?? ''], count: '2' });
  });

  test.serial(`${version}: Recover makes the object the ID placeholder`, async (t) => {
    const kmip = client(version);
    const uid = await kmip.registerSymmetric(key, [usage('Encrypt')]);
    await kmip.must('Archive', uidXml(uid));
    const xml = await connection().requestXml(
      requestXml(
        version,
        `<BatchItem>${enumXml('Operation', 'Recover')}<RequestPayload>${uidXml(uid)}</RequestPayload></BatchItem>
         <BatchItem>${enumXml('Operation', 'Get')}<RequestPayload></RequestPayload></BatchItem>`,
      ),
    );
    const answer = new Answer(xml);
    t.is(answer.value('ResultStatus', 1), 'Success', xml);
    t.is(answer.value('UniqueIdentifier', 1), uid);
    t.is(answer.bytes('KeyMaterial').toString('hex'), key.toString('hex'));
  });
}

test.serial("another principal's object cannot be archived or recovered", async (t) => {
  const admin = client('2.1');
  const uid = await admin.registerSymmetric(key, [usage('Encrypt')]);
  const files = await server().issueClient('tenant-archive');
  const other = await TestKmipClient.connect(server().host, server().port, files);
  try {
    // It does not exist for the caller: Object Not Found, as for an unknown Unique Identifier in 2.1.
    const kmip = new VersionedClient(other, '2.1');
    t.is((await kmip.call('Archive', uidXml(uid))).outcome, 'OperationFailed/ObjectNotFound');
    await admin.must('Archive', uidXml(uid));
    t.is((await kmip.call('Recover', uidXml(uid))).outcome, 'OperationFailed/ObjectNotFound');
    t.is((await admin.call('Get', uidXml(uid))).outcome, 'OperationFailed/ObjectArchived');
  } finally {
    other.close();
  }
});
