/**
 * The certificate name attributes the server sets at Register (KMIP 2.1 §4.8): each distinguished-name field of the
 * subject and issuer becomes a Certificate Subject / Issuer attribute in 2.x; 1.x responses never list them (in 1.4
 * they are fields of a structure, not attributes).
 */
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import test from 'ava';
import { bytesXml, enumXml, uidXml, VersionedClient } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, client } = serverFixture(test);

async function registerCertificate(kmip: VersionedClient, der: Uint8Array): Promise<string> {
  const answer = await kmip.must(
    'Register',
    `${enumXml('ObjectType', 'Certificate')}${kmip.version.startsWith('2.') ? '<Attributes/>' : '<TemplateAttribute/>'}
     <Certificate>${enumXml('CertificateType', 'X_509')}${bytesXml('CertificateValue', der)}</Certificate>`,
  );
  return answer.value('UniqueIdentifier') ?? '';
}

test('2.1: Certificate Subject and Issuer attributes come from the certificate; 1.4 lists none', async (t) => {
  // The lab CA is self-issued: its subject and issuer are the same name.
  const certificate = new X509Certificate(await readFile(server().ca));
  const fields = new Map(certificate.subject.split('\n').map((line) => line.split('=') as [string, string]));
  const kmip21 = client('2.1');
  const uid = await registerCertificate(kmip21, certificate.raw);
  const answer = await kmip21.must('GetAttributes', uidXml(uid));
  t.is(answer.value('CertificateSubjectCN'), fields.get('CN'));
  t.is(answer.value('CertificateIssuerCN'), fields.get('CN'));
  t.is(answer.value('CertificateSubjectO'), fields.get('O'));
  t.false(answer.has('CertificateSubjectUID'), 'only the fields the name has');
  const named = await kmip21.must(
    'GetAttributes',
    `${uidXml(uid)}${enumXml('AttributeReference', 'CertificateSubjectCN')}`,
  );
  t.is(named.value('CertificateSubjectCN'), fields.get('CN'));
  const kmip14 = client('1.4');
  const old = await kmip14.must('GetAttributes', uidXml(await registerCertificate(kmip14, certificate.raw)));
  t.false(old.xml.includes('Certificate Subject CN'), '1.4 has no such attribute');
  t.true(old.xml.includes('Certificate Length'));
});
