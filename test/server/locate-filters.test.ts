/**
 * Locate's date ranges and destroyed objects over real mutual TLS (KMIP 1.4 §4.9, 2.1 §6.1.28): a date attribute
 * given twice selects the objects whose value lies between the two, inclusive; a destroyed object is found only
 * when the request asks for it (a State filter naming a destroyed state, or 2.x Destroyed Storage).
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { attr, locate, nameAttr, uidXml, type AttributeSpec } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);

const group = (value: string): AttributeSpec => attr('ObjectGroup', 'TextString', value);

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
    const between = (
      await locate(kmip, [group(tag), at('2030-01-15T00:00:00+00:00'), at('2030-03-01T00:00:00+00:00')])
    ).sort();
    t.deepEqual(between, [feb, mar].sort(), 'February and the end itself');
    const reversed = (
      await locate(kmip, [group(tag), at('2030-02-01T00:00:00+00:00'), at('2029-12-01T00:00:00+00:00')])
    ).sort();
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
    const uid = await kmip.registerSymmetric(randomBytes(16), [nameAttr(label)]);
    t.deepEqual(await locate(kmip, [nameAttr(label)]), [uid]);
    await kmip.must('Destroy', uidXml(uid));
    t.deepEqual(await locate(kmip, [nameAttr(label)]), [], 'not by default');
    t.deepEqual(
      await locate(kmip, [nameAttr(label), attr('State', 'Enumeration', 'Destroyed')]),
      [uid],
      'by its state',
    );
    if (version === '2.1') {
      // Storage Status Mask: On-line (1) | Destroyed (4), KMIP 2.1 §11.38.
      t.deepEqual(await locate(kmip, [nameAttr(label)], { mask: 5 }), [uid], 'with Destroyed Storage');
      t.deepEqual(await locate(kmip, [nameAttr(label)], { mask: 1 }), [], 'on-line storage alone');
    }
  });
}
