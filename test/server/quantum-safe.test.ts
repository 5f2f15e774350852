/**
 * Quantum Safe (KMIP 2.0/2.1 §4.45) over real mutual TLS: an object asked to be Quantum Safe is made only when the
 * server can vouch for it (AES or HMAC-SHA-256/384/512 of 256 bits or more); otherwise General Failure, as the QS-M-2
 * profile vectors expect, and nothing is stored. Turning the flag on later is held to the same rule.
 */
import test from 'ava';
import { attr, attributesXml, enumXml, uidXml, type Answer } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);
const version = '2.1';
const quantumSafe = attr('QuantumSafe', 'Boolean', 'true');

const create = (algorithm: string, bits: number, safe: boolean): Promise<Answer> =>
  client(version).call(
    'Create',
    `${enumXml('ObjectType', 'SymmetricKey')}${attributesXml(version, [
      attr('CryptographicAlgorithm', 'Enumeration', algorithm),
      attr('CryptographicLength', 'Integer', String(bits)),
      ...(safe ? [quantumSafe] : []),
    ])}`,
  );

test.serial(
  'symmetric keys: 256 bits of AES or HMAC-SHA-2 are quantum safe, shorter ones are refused',
  async (t) => {
    for (const [algorithm, bits] of [
      ['AES', 256],
      ['HMAC_SHA256', 256],
      ['HMAC_SHA512', 512],
    ] as const) {
      const made = await create(algorithm, bits, true);
      t.is(made.outcome, 'Success/-', `${algorithm}-${bits}: ${made.xml}`);
    }
    for (const [algorithm, bits] of [
      ['AES', 128],
      ['AES', 192],
      ['DES3', 192],
      ['HMAC_SHA1', 256],
    ] as const) {
      const refused = await create(algorithm, bits, true);
      t.is(refused.outcome, 'OperationFailed/GeneralFailure', `${algorithm}-${bits}: ${refused.xml}`);
      t.regex(refused.xml, /Quantum Safe/);
      t.false(refused.has('UniqueIdentifier'), 'nothing made');
    }
    t.is((await create('AES', 128, false)).outcome, 'Success/-', 'without the flag, no such rule');
  },
);

test.serial('asymmetric keys and secret data cannot be vouched for', async (t) => {
  const kmip = client(version);
  const pair = await kmip.call(
    'CreateKeyPair',
    `<CommonAttributes>${enumXml('CryptographicAlgorithm', 'EC')}${enumXml('RecommendedCurve', 'P_256')}
       <QuantumSafe type="Boolean" value="true"/></CommonAttributes>`,
  );
  t.is(pair.outcome, 'OperationFailed/GeneralFailure', pair.xml);
  t.regex(pair.xml, /Shor/);
  const secret = await kmip.call(
    'Register',
    `${enumXml('ObjectType', 'SecretData')}${attributesXml(version, [quantumSafe])}
     <SecretData>${enumXml('SecretDataType', 'Password')}<KeyBlock>${enumXml('KeyFormatType', 'Opaque')}
       <KeyValue><KeyMaterial type="ByteString" value="70617373"/></KeyValue></KeyBlock></SecretData>`,
  );
  t.is(secret.outcome, 'OperationFailed/GeneralFailure', secret.xml);
});

test.serial('turning Quantum Safe on later follows the same rule', async (t) => {
  const kmip = client(version);
  const short = (await create('AES', 128, false)).value('UniqueIdentifier') ?? '';
  const long = (await create('AES', 256, false)).value('UniqueIdentifier') ?? '';
  const set = (uid: string): Promise<Answer> =>
    kmip.call(
      'SetAttribute',
      `${uidXml(uid)}<NewAttribute><QuantumSafe type="Boolean" value="true"/></NewAttribute>`,
    );
  t.is((await set(short)).outcome, 'OperationFailed/GeneralFailure');
  t.is((await set(long)).outcome, 'Success/-');
  const added = await kmip.call(
    'AddAttribute',
    `${uidXml(short)}<NewAttribute><QuantumSafe type="Boolean" value="true"/></NewAttribute>`,
  );
  t.is(added.outcome, 'OperationFailed/GeneralFailure', added.xml);
  const off = await kmip.call(
    'SetAttribute',
    `${uidXml(short)}<NewAttribute><QuantumSafe type="Boolean" value="false"/></NewAttribute>`,
  );
  t.is(off.outcome, 'Success/-', 'asking for nothing is always allowed');
});
