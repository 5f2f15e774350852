/**
 * Locate's date ranges and destroyed objects over real mutual TLS (KMIP 1.4 §4.9, 2.1 §6.1.28): a date attribute
 * given twice selects the objects whose value lies between the two, inclusive; a destroyed object is found only
 * when the request asks for it (a State filter naming a destroyed state, or 2.x Destroyed Storage).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { TestKmipClient } from '../support/kmip-client.js';
import {
  attr,
  attributesXml,
  enumXml,
  structAttr,
  uidXml,
  VersionedClient,
  type AttributeSpec,
  type Version,
} from '../support/crypto-client.js';

let server: TestAppliance;
let connection: TestKmipClient;

test.before(async () => {
  server = await startTestAppliance();
  connection = await TestKmipClient.connect(server.host, server.port, server);
});
test.after.always(async () => {
  connection.close();
  await server.dispose();
});

const client = (version: Version): VersionedClient => new VersionedClient(connection, version);
const group = (value: string): AttributeSpec => attr('ObjectGroup', 'TextString', value);
const name = (value: string): AttributeSpec =>
  structAttr(
    'Name',
    `<NameValue type="TextString" value="${value}"/>${enumXml('NameType', 'UninterpretedTextString')}`,
  );

async function locate(
  kmip: VersionedClient,
  attributes: readonly AttributeSpec[],
  mask?: number,
): Promise<string[]> {
  const container = attributesXml(kmip.version, attributes, { v1: 'Unwrapped', v2: 'Attributes' }).replace(
    /<\/?Unwrapped>/g,
    '',
  );
  const maskXml = mask === undefined ? '' : `<StorageStatusMask type="Integer" value="${String(mask)}"/>`;
  const answer = await kmip.must('Locate', `${maskXml}${container}`);
  const uids: string[] = [];
  for (let i = 0; answer.value('UniqueIdentifier', i) !== undefined; i++)
    uids.push(answer.value('UniqueIdentifier', i) ?? '');
  return uids.sort();
}

for (const version of ['1.4', '2.1'] as const) {
  test.serial(`${version}: a date attribute given twice is a range, both ends included`, async (t) => {
    const kmip = client(version);
    const tag = `range-${version}-${randomBytes(4).toString('hex')}`;
    const at = (iso: string): AttributeSpec => attr('ProtectStopDate', 'DateTime', iso);
    const uids: string[] = [];
    for (const date of [
      '2030-01-01T00:00:00+00:00',
      '2030-02-01T00:00:00+00:00',
      '2030-03-01T00:00:00+00:00',
    ]) {
      uids.push(await kmip.registerSymmetric(randomBytes(16), [group(tag), at(date)]));
    }
    const [jan, feb, mar] = uids;
    const between = await locate(kmip, [
      group(tag),
      at('2030-01-15T00:00:00+00:00'),
      at('2030-03-01T00:00:00+00:00'),
    ]);
    t.deepEqual(between, [feb, mar].sort(), 'February and the end itself');
    const reversed = await locate(kmip, [
      group(tag),
      at('2030-02-01T00:00:00+00:00'),
      at('2029-12-01T00:00:00+00:00'),
    ]);
    t.deepEqual(reversed, [jan, feb].sort(), 'the two ends in either order');
    t.deepEqual(
      await locate(kmip, [group(tag), at('2030-02-01T00:00:00+00:00')]),
      [feb],
      'given once: that date',
    );
  });

  test.serial(`${version}: a destroyed object is found only when asked for`, async (t) => {
    const kmip = client(version);
    const label = `gone-${version}-${randomBytes(4).toString('hex')}`;
    const uid = await kmip.registerSymmetric(randomBytes(16), [name(label)]);
    t.deepEqual(await locate(kmip, [name(label)]), [uid]);
    await kmip.must('Destroy', uidXml(uid));
    t.deepEqual(await locate(kmip, [name(label)]), [], 'not by default');
    t.deepEqual(
      await locate(kmip, [name(label), attr('State', 'Enumeration', 'Destroyed')]),
      [uid],
      'by its state',
    );
    if (version === '2.1') {
      // Storage Status Mask: On-line (1) | Destroyed (4), KMIP 2.1 §11.38.
      t.deepEqual(await locate(kmip, [name(label)], 5), [uid], 'with Destroyed Storage');
      t.deepEqual(await locate(kmip, [name(label)], 1), [], 'on-line storage alone');
    }
  });
}
