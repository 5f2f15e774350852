/**
 * Over real mutual TLS, a Result Message reaches the client as ASCII (KMIP 1.4 §9.1.1.4 allows UTF-8, but clients
 * that read a Text String one byte at a time cannot): characters echoed from the request are escaped by name, and
 * the server's own references to the specification are spelled out.
 */
import test from 'ava';
import { uidXml, type Version } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { client } = serverFixture(test);
const isAscii = (text: string): boolean => !/[^\x20-\x7e\t\n]/u.test(text);

const versions: readonly Version[] = ['1.2', '1.4', '2.1'];
for (const version of versions) {
  test.serial(
    `${version}: an unknown identifier with non-ASCII characters is named back in ASCII`,
    async (t) => {
      const answer = await client(version).call('Get', uidXml('clé-😀-absente'));
      // 2.1 §11 has Object Not Found for an identifier that names nothing.
      t.is(
        answer.outcome,
        version === '2.1' ? 'OperationFailed/ObjectNotFound' : 'OperationFailed/ItemNotFound',
      );
      const message = answer.message ?? '';
      t.true(message.includes('cl\\u00e9-\\u{1f600}-absente'), message);
      t.true(isAscii(message), message);
    },
  );
}

test.serial('1.4: the server’s own section reference is spelled out', async (t) => {
  const kmip = client('1.4');
  const uid = await kmip.registerSymmetric(Buffer.alloc(16, 7), []);
  const attribute = `<Attribute><AttributeName type="TextString" value="x-note"/><AttributeIndex type="Integer" value="0"/><AttributeValue type="TextString" value="n"/></Attribute>`;
  const answer = await kmip.call('AddAttribute', `${uidXml(uid)}${attribute}`);
  t.is(answer.outcome, 'OperationFailed/InvalidField');
  const message = answer.message ?? '';
  t.regex(message, /KMIP 1\.4 section 4\.14/u);
  t.true(isAscii(message), message);
});
