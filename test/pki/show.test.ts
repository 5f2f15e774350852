/** describeCertificate, describeCsr and describePkiFile: certificates and CSRs in plain words. */
import { join } from 'node:path';
import test from 'ava';
import {
  addDays,
  createCertificateAuthority,
  issueCertificate,
  validityFor,
  type CertificateAuthority,
} from '../../src/pki/issue.js';
import { createLabCa, loadLabCa } from '../../src/pki/lab-pki.js';
import { describeCertificate, describeCsr, describePkiFile, validityInWords } from '../../src/pki/show.js';
import { x509 } from '../../src/pki/x509.js';
import { makeCsr, removeTempDirs, tamperSignature, tempDir } from './support.js';

let ca: CertificateAuthority;

test.before(async () => {
  const certsDir = join(tempDir('show'), 'certs');
  await createLabCa(certsDir);
  ca = await loadLabCa(certsDir);
});
test.after.always(removeTempDirs);

/** The value on the line labelled `label`. */
function field(lines: readonly string[], label: string): string | undefined {
  const prefix = `  ${label}:`;
  return lines
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
}

test('validity in words: expired, not yet valid, valid', (t) => {
  const now = new Date('2030-06-01T00:00:00Z');
  t.is(validityInWords(addDays(now, -400), addDays(now, -35), now), 'expired 35 days ago');
  t.is(validityInWords(addDays(now, -400), addDays(now, -1), now), 'expired 1 day ago');
  t.is(validityInWords(addDays(now, -2), addDays(now, -0.1), now), 'expired less than a day ago');
  t.is(validityInWords(addDays(now, 3), addDays(now, 30), now), 'not yet valid: not valid for 3 more days');
  t.is(validityInWords(addDays(now, -1), addDays(now, 730), now), 'valid for 730 more days');
});

test('an expired certificate is described as expired, with its names and usages', async (t) => {
  const now = new Date();
  const issued = await issueCertificate(ca, {
    subject: { commonName: 'old-client', organizationName: 'Example' },
    sans: [
      { type: 'dns', value: 'old.example.org' },
      { type: 'ip', value: '10.9.8.7' },
    ],
    eku: ['clientAuth'],
    notBefore: addDays(now, -400),
    notAfter: addDays(now, -12),
  });
  const lines = describeCertificate(issued.certificate, { labCa: ca.certificate, labCaPath: 'certs/ca.pem' });
  t.is(lines[0], 'certificate (X.509)');
  t.is(field(lines, 'subject'), 'O=Example, CN=old-client');
  t.is(field(lines, 'issuer'), ca.certificate.subject);
  t.is(field(lines, 'serial'), issued.certificate.serialNumber);
  t.is(field(lines, 'validity'), 'expired 12 days ago');
  t.is(field(lines, 'key'), 'RSA 2048 bits');
  t.is(field(lines, 'subject alt names'), 'DNS:old.example.org, IP:10.9.8.7');
  t.is(field(lines, 'key usage'), 'digitalSignature, keyEncipherment (critical)');
  t.is(field(lines, 'extended key usage'), 'clientAuth');
  t.is(field(lines, 'basic constraints'), 'not a CA (critical)');
  t.regex(field(lines, 'SHA-256 fingerprint') ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.is(field(lines, 'lab CA'), "signed by this server's lab CA (certs/ca.pem)");
});

test('a certificate from another CA is NOT signed by the lab CA; the lab CA is itself', async (t) => {
  const other = await createCertificateAuthority({
    subject: { commonName: 'someone else' },
    ...validityFor(5),
    keyAlgorithm: 'ec-p256',
  });
  const issued = await issueCertificate(other, {
    subject: { commonName: 'stranger' },
    sans: [],
    eku: [],
    keyAlgorithm: 'ec-p384',
    ...validityFor(5),
  });
  const lines = describeCertificate(issued.certificate, { labCa: ca.certificate });
  t.is(
    field(lines, 'lab CA'),
    `NOT signed by this server's lab CA: the lab CA is ${ca.certificate.subject}, this was issued by CN=someone else`,
  );
  t.is(field(lines, 'key'), 'EC P-384 (384 bits)');
  t.is(
    field(lines, 'extended key usage'),
    'none (no extendedKeyUsage extension: any purpose, RFC 5280 §4.2.1.12)',
  );
  t.is(field(lines, 'validity'), 'valid for 5 more days');
  t.is(
    field(describeCertificate(ca.certificate, { labCa: ca.certificate }), 'lab CA'),
    "this is this server's lab CA itself",
  );
  t.is(
    field(describeCertificate(ca.certificate, { labCa: null, labCaPath: 'x/ca.pem' }), 'lab CA'),
    'no lab CA to compare with (x/ca.pem)',
  );
  t.is(field(describeCertificate(ca.certificate), 'basic constraints'), 'a CA, path length 0 (critical)');
  t.is(field(describeCertificate(ca.certificate), 'lab CA'), undefined);
});

test('a CSR: subject, key, requested extensions, signature, and what sign-csr would do', async (t) => {
  const { csr, der } = await makeCsr({
    subject: 'CN=barbican-node1',
    key: 'ec-p256',
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'node1.example.org' }]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const lines = await describeCsr(csr, { policy: { expectCn: 'barbican' } });
  t.is(lines[0], 'certificate signing request (PKCS#10, RFC 2986)');
  t.is(field(lines, 'subject'), 'CN=barbican-node1');
  t.is(field(lines, 'key'), 'EC P-256 (256 bits)');
  t.is(field(lines, 'signature'), 'valid (ECDSA with SHA-256)');
  t.true(lines.includes('  requested extensions:'));
  t.is(field(lines, '  subject alt names'), 'DNS:node1.example.org');
  t.is(field(lines, '  extended key usage'), 'clientAuth');
  t.true(lines.includes('  sign-csr would refuse it:'));
  t.true(lines.some((line) => line.startsWith("    - CSR common name 'barbican-node1' does not equal")));

  const tampered = await describePkiFile(tamperSignature(der));
  t.is(field(tampered, 'signature'), 'does NOT verify (the CSR was altered or the key does not match)');

  const plain = await makeCsr({ subject: 'CN=plain' });
  const plainLines = await describePkiFile(plain.pem);
  t.is(field(plainLines, 'requested extensions'), 'none');
  t.true(plainLines.includes('  sign-csr would sign it'));
  t.true(plainLines.includes('  note: the CSR requests no extended key usage; the signer adds clientAuth'));
});

test('describePkiFile tells certificates from CSRs in DER and describes every block of a PEM bundle', async (t) => {
  const issued = await issueCertificate(ca, {
    subject: { commonName: 'der' },
    sans: [],
    eku: [],
    ...validityFor(1),
  });
  const der = Buffer.from(issued.certificate.rawData);
  t.is((await describePkiFile(der))[0], 'certificate (X.509)');
  const { der: csrDer } = await makeCsr({ subject: 'CN=der-csr', key: 'ec-p256' });
  t.is((await describePkiFile(csrDer))[0], 'certificate signing request (PKCS#10, RFC 2986)');
  const bundle = await describePkiFile(`${issued.certPem}${ca.certificate.toString('pem')}\n`);
  t.is(bundle.filter((line) => line === 'certificate (X.509)').length, 2);
  t.true(bundle.includes(''));
});
