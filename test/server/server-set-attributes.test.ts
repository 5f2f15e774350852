/**
 * Attributes the server sets and what they do, over real mutual TLS: Fresh (KMIP 2.1 §4.24) True on a new object and
 * False once Get has served it, unless the client registered it False; Sensitive (§4.55) keeps Get from serving
 * the value, and Always Sensitive (§4.4) says so; Digest (1.4 §3.17) is SHA-256 of the registered Key Material;
 * Log (2.1 §6.1.29) takes a message and answers an empty payload.
 */
import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { allAttributes, scalar } from '../support/attribute-answers.js';
import { attr, uidXml, VersionedClient } from '../support/crypto-client.js';
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
