/**
 * The attributes the server sets from a registered certificate (KMIP 1.4 §3.4-3.5, §3.9-3.17; 2.1 §4.8-4.9): its
 * public key's algorithm and length, its signature algorithm, issuer and serial, subject and alternative names, in
 * the forms each version defines. Expected values come from the certificate as @peculiar/x509 and node:crypto read
 * it, not from the server's own DER reader.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { createCertificateAuthority, issueCertificate } from '../../src/pki/issue.js';
import { x509 } from '../../src/pki/x509.js';
import { bytesXml, enumXml, uidXml, VersionedClient } from '../support/crypto-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, client } = serverFixture(test);

async function registerCertificate(kmip: VersionedClient, der: Uint8Array, attributes = ''): Promise<string> {
  const answer = await kmip.must(
    'Register',
    `${enumXml('ObjectType', 'Certificate')}${kmip.version.startsWith('2.') ? `<Attributes>${attributes}</Attributes>` : `<TemplateAttribute>${attributes}</TemplateAttribute>`}
     <Certificate>${enumXml('CertificateType', 'X_509')}${bytesXml('CertificateValue', der)}</Certificate>`,
  );
  return answer.value('UniqueIdentifier') ?? '';
}

const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(new Uint8Array(bytes)).toString('hex');
const attributeNames = (xml: string): string[] =>
  [...xml.matchAll(/<AttributeName type="TextString" value="([^"]*)"\/>/g)].map((m) => m[1] ?? '');

/** A leaf certificate (RSA-2048, a subjectAltName, a fixed serial) issued by an EC P-384 CA, which signs with SHA-384. */
const fixture = (async () => {
  const now = Date.now();
  const ca = await createCertificateAuthority({
    subject: { commonName: 'Drill CA', organizationName: 'Kmip Lab' },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    keyAlgorithm: 'ec-p384',
  });
  const leaf = await issueCertificate(ca, {
    subject: { commonName: 'ee.kmip.test', organizationName: 'Kmip Lab', organizationalUnitName: 'Certs' },
    sans: [{ type: 'dns', value: 'ee.kmip.test' }],
    eku: ['clientAuth'],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    keyAlgorithm: 'rsa-2048',
    serialNumber: '00c0ffee0102',
  });
  const der = new Uint8Array(leaf.certificate.rawData);
  const serial = Buffer.from(leaf.certificate.serialNumber, 'hex');
  const san = leaf.certificate.getExtension(x509.SubjectAlternativeNameExtension);
  return {
    der,
    node: new X509Certificate(der),
    issuerDer: hex(leaf.certificate.issuerName.toArrayBuffer()),
    subjectDer: hex(leaf.certificate.subjectName.toArrayBuffer()),
    // DER INTEGER: tag 02, a one-byte length, the serial's two's-complement bytes (positive: a 00 before a high bit).
    serialDer: hex(
      Buffer.concat([
        Buffer.of(0x02, serial.length + ((serial[0] ?? 0) >= 0x80 ? 1 : 0)),
        (serial[0] ?? 0) >= 0x80 ? Buffer.of(0) : Buffer.of(),
        serial,
      ]),
    ),
    sanDer: san === null ? '' : hex(san.value),
  };
})();

test('1.4: algorithm, length, signature algorithm, X.509 and text names, all read from the certificate', async (t) => {
  const cert = await fixture;
  const kmip = client('1.4');
  const uid = await registerCertificate(kmip, cert.der);
  const answer = await kmip.must('GetAttributes', uidXml(uid));
  const attribute = (name: string): string => {
    const at = answer.xml.indexOf(`<AttributeName type="TextString" value="${name}"/>`);
    t.not(at, -1, `${name} is listed`);
    return answer.xml.slice(at, answer.xml.indexOf('</Attribute>', at));
  };
  const valueIn = (xml: string, element: string): string | undefined =>
    new RegExp(`<${element} type="[A-Za-z]+" value="([^"]*)"/>`).exec(xml)?.[1];

  t.is(valueIn(attribute('Cryptographic Algorithm'), 'AttributeValue'), 'RSA');
  t.is(valueIn(attribute('Cryptographic Length'), 'AttributeValue'), '2048');
  t.is(valueIn(attribute('Digital Signature Algorithm'), 'AttributeValue'), 'ECDSAWithSHA384');
  const identifier = attribute('X.509 Certificate Identifier');
  t.is(valueIn(identifier, 'IssuerDistinguishedName'), cert.issuerDer);
  t.is(valueIn(identifier, 'CertificateSerialNumber'), cert.serialDer, 'the serial as its DER INTEGER');
  const subject = attribute('X.509 Certificate Subject');
  t.is(valueIn(subject, 'SubjectDistinguishedName'), cert.subjectDer);
  t.is(valueIn(subject, 'SubjectAlternativeName'), cert.sanDer, 'the subjectAltName extension value');
  t.is(valueIn(attribute('X.509 Certificate Issuer'), 'IssuerDistinguishedName'), cert.issuerDer);
  t.false(attribute('X.509 Certificate Issuer').includes('IssuerAlternativeName'), 'the CA gave none');
  // KMIP 1.0's text forms: RFC 2253 names (last RDN first) and the serial in hex.
  const textIdentifier = attribute('Certificate Identifier');
  t.is(valueIn(textIdentifier, 'Issuer'), 'CN=Drill CA,O=Kmip Lab');
  t.is(valueIn(textIdentifier, 'SerialNumber'), 'c0ffee0102');
  t.is(
    valueIn(attribute('Certificate Subject'), 'CertificateSubjectDistinguishedName'),
    'CN=ee.kmip.test,OU=Certs,O=Kmip Lab',
  );
  t.is(
    valueIn(attribute('Certificate Subject'), 'CertificateSubjectAlternativeName'),
    cert.node.subjectAltName,
  );
  t.is(
    valueIn(attribute('Certificate Issuer'), 'CertificateIssuerDistinguishedName'),
    'CN=Drill CA,O=Kmip Lab',
  );
  t.is(valueIn(attribute('Certificate Subject OU'), 'AttributeValue'), 'Certs');
  t.is(valueIn(attribute('Certificate Issuer CN'), 'AttributeValue'), 'Drill CA');
  // The Digest of the Certificate Value, Key Format Type Raw (the OASIS reference server's form).
  const digest = attribute('Digest');
  t.is(valueIn(digest, 'DigestValue'), createHash('sha256').update(cert.der).digest('hex'));
  t.is(valueIn(digest, 'KeyFormatType'), 'Raw');
  // A certificate is listed by what it is: Unique Identifier, Object Type, Certificate Type, then by name.
  const names = attributeNames(answer.xml);
  t.deepEqual(names.slice(0, 3), ['Unique Identifier', 'Object Type', 'Certificate Type']);
  t.deepEqual(
    names.slice(3),
    [...names.slice(3)].sort((a, b) => a.localeCompare(b, 'en')),
  );
});

test('each version lists the forms it defines: 1.0 the text ones, 1.2 the X.509 ones too, 2.1 no text ones', async (t) => {
  const cert = await fixture;
  const listed = async (version: '1.0' | '1.2' | '1.3'): Promise<string[]> => {
    const kmip = client(version);
    const uid = await registerCertificate(kmip, cert.der);
    return attributeNames((await kmip.must('GetAttributeList', uidXml(uid))).xml);
  };
  const v10 = await listed('1.0');
  t.true(v10.includes('Certificate Identifier') && v10.includes('Certificate Subject'), v10.join(', '));
  t.false(v10.includes('X.509 Certificate Identifier'), 'KMIP 1.1 introduced it');
  t.false(v10.includes('Digital Signature Algorithm'), 'KMIP 1.1 introduced it');
  const v12 = await listed('1.2');
  t.true(v12.includes('X.509 Certificate Identifier') && v12.includes('Certificate Identifier'));
  t.false((await listed('1.3')).includes('Certificate Subject CN'), 'a tag from 1.4 on');
  const kmip21 = client('2.1');
  const attributes = await kmip21.must('GetAttributes', uidXml(await registerCertificate(kmip21, cert.der)));
  t.true(attributes.has('X_509CertificateIdentifier'));
  t.is(attributes.value('DigitalSignatureAlgorithm'), 'ECDSAWithSHA384');
  t.is(attributes.value('CertificateSubjectCN'), 'ee.kmip.test');
  t.false(attributes.has('CertificateIdentifier'), 'removed in KMIP 2.0');
});

test('a client cannot give what the certificate says', async (t) => {
  const cert = await fixture;
  for (const [version, attribute] of [
    [
      '1.4',
      `<Attribute><AttributeName type="TextString" value="Digital Signature Algorithm"/>${enumXml('AttributeValue', 'SHA_256WithRSAEncryption')}</Attribute>`,
    ],
    ['2.1', `<CertificateSubjectCN type="TextString" value="someone else"/>`],
  ] as const) {
    const kmip = client(version);
    const answer = await kmip.call(
      'Register',
      `${enumXml('ObjectType', 'Certificate')}${version === '2.1' ? `<Attributes>${attribute}</Attributes>` : `<TemplateAttribute>${attribute}</TemplateAttribute>`}
       <Certificate>${enumXml('CertificateType', 'X_509')}${bytesXml('CertificateValue', cert.der)}</Certificate>`,
    );
    t.is(answer.outcome, 'OperationFailed/InvalidField', `${version}: ${answer.xml}`);
  }
});

test('2.1: Certificate Subject and Issuer attributes come from the lab CA, only the fields its name has', async (t) => {
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
});
