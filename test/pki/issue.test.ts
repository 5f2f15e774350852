/** issueCertificate and friends: profiles are written exactly as asked, including the wrong things drills need. */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import test from 'ava';
import {
  addDays,
  createCertificateAuthority,
  hostSan,
  issueCertificate,
  loadCertificateAuthority,
  randomSerialNumber,
  validityFor,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../src/pki/issue.js';
import { x509 } from '../../src/pki/x509.js';
import { signatureHash } from './support.js';

let ca: CertificateAuthority & IssuedCertificate;

test.before(async () => {
  // RSA-2048 keeps the test quick; the lab CA itself is RSA-3072.
  ca = await createCertificateAuthority({
    subject: { commonName: 'issue test CA' },
    ...validityFor(30),
    keyAlgorithm: 'rsa-2048',
  });
});

test('notBefore and notAfter are written as asked, past or future', async (t) => {
  const now = new Date('2030-01-01T00:00:00Z');
  const cases = [
    { notBefore: addDays(now, -400), notAfter: addDays(now, -35) },
    { notBefore: addDays(now, 365), notAfter: addDays(now, 730) },
  ];
  for (const window of cases) {
    const issued = await issueCertificate(ca, {
      subject: { commonName: 'w' },
      sans: [],
      eku: ['clientAuth'],
      ...window,
    });
    t.is(issued.certificate.notBefore.getTime(), window.notBefore.getTime());
    t.is(issued.certificate.notAfter.getTime(), window.notAfter.getTime());
  }
});

test('an empty eku leaves the extension out; keyUsage can be left out too', async (t) => {
  const issued = await issueCertificate(ca, {
    subject: { commonName: 'no-eku' },
    sans: [],
    eku: [],
    keyUsage: [],
    ...validityFor(1),
  });
  t.is(issued.certificate.getExtension(x509.ExtendedKeyUsageExtension), null);
  t.is(issued.certificate.getExtension(x509.KeyUsagesExtension), null);
  t.is(issued.certificate.getExtension(x509.SubjectAlternativeNameExtension), null);
});

test('EC keys get digitalSignature only, and are signed by the RSA CA with SHA-256', async (t) => {
  const issued = await issueCertificate(ca, {
    subject: { commonName: 'ec', organizationName: 'Example, Inc.' },
    sans: [hostSan('kmip.example.org'), hostSan('2001:db8::1')],
    eku: ['serverAuth', 'clientAuth'],
    keyAlgorithm: 'ec-p256',
    ...validityFor(1),
  });
  t.is(issued.certificate.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
  t.is(createPrivateKey(issued.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const cert = new X509Certificate(issued.certPem);
  // A comma in a value stays a value: the subject is built from attributes, not parsed from a DN string.
  t.deepEqual(issued.certificate.subjectName.getField('O'), ['Example, Inc.']);
  t.deepEqual(issued.certificate.subjectName.getField('CN'), ['ec']);
  t.is(cert.subjectAltName, 'DNS:kmip.example.org, IP Address:2001:DB8:0:0:0:0:0:1');
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  t.true(cert.verify(new X509Certificate(ca.certPem).publicKey));
  t.is(signatureHash(issued.certificate), 'SHA-256');
});

test("leaves carry the CA's key identifier as their authorityKeyIdentifier (RFC 5280 §4.2.1.1)", async (t) => {
  const issued = await issueCertificate(ca, {
    subject: { commonName: 'aki' },
    sans: [],
    eku: [],
    ...validityFor(1),
  });
  const ski = ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  t.truthy(ski);
  t.is(issued.certificate.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, ski);
});

test('serial numbers are positive, 16 bytes and distinct', (t) => {
  const serials = new Set(Array.from({ length: 200 }, randomSerialNumber));
  t.is(serials.size, 200);
  for (const serial of serials) {
    t.regex(serial, /^[0-9a-f]{32}$/);
    const top = Number.parseInt(serial.slice(0, 2), 16);
    t.true(top >= 1 && top <= 0x7f);
  }
});

test('loadCertificateAuthority refuses a leaf certificate as a CA', async (t) => {
  const leaf = await issueCertificate(ca, {
    subject: { commonName: 'leaf' },
    sans: [],
    eku: [],
    ...validityFor(1),
  });
  await t.throwsAsync(loadCertificateAuthority(leaf.certPem, leaf.keyPem), {
    message: /is not a CA certificate/,
  });
  const loaded = await loadCertificateAuthority(ca.certPem, ca.keyPem);
  t.is(loaded.certificate.subject, ca.certificate.subject);
});

test('an EC P-384 CA signs with SHA-384 and can be loaded back', async (t) => {
  const ecCa = await createCertificateAuthority({
    subject: { commonName: 'ec CA' },
    ...validityFor(1),
    keyAlgorithm: 'ec-p384',
  });
  const loaded = await loadCertificateAuthority(ecCa.certPem, ecCa.keyPem);
  const issued = await issueCertificate(loaded, {
    subject: { commonName: 'x' },
    sans: [],
    eku: [],
    ...validityFor(1),
  });
  t.is(signatureHash(issued.certificate), 'SHA-384');
  t.true(new X509Certificate(issued.certPem).verify(new X509Certificate(ecCa.certPem).publicKey));
});
