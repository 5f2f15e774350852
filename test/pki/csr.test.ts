/**
 * checkCsr and signCsr: every policy violation is reported, each in one precise sentence, and a CSR that passes
 * becomes a certificate that chains to the lab CA and carries clientAuth.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { checkCsr, CsrPolicyError, signCsr } from '../../src/pki/csr.js';
import {
  createCertificateAuthority,
  issueCertificate,
  validityFor,
  type CertificateAuthority,
} from '../../src/pki/issue.js';
import { createLabCa, loadLabCa } from '../../src/pki/lab-pki.js';
import { PkiParseError, readCsr } from '../../src/pki/parse.js';
import { x509 } from '../../src/pki/x509.js';
import { makeCsr, opensslPath, removeTempDirs, tamperSignature, tempDir } from './support.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

let certsDir: string;
let ca: CertificateAuthority;
let caCert: X509Certificate;

test.before(async () => {
  certsDir = join(tempDir('csr'), 'certs');
  await createLabCa(certsDir);
  ca = await loadLabCa(certsDir);
  caCert = new X509Certificate(readFileSync(join(certsDir, 'ca.pem')));
});
test.after.always(removeTempDirs);

test('a good CSR is signed; the certificate chains to the lab CA and carries clientAuth', async (t) => {
  const { pem, csr } = await makeCsr({
    subject: 'CN=barbican, O=Example, C=US',
    key: 'ec-p256',
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'barbican.example.org' },
        { type: 'ip', value: '192.0.2.7' },
        { type: 'email', value: 'ops@example.org' },
      ]),
    ],
  });
  const check = await checkCsr(pem, { expectCn: 'barbican' });
  t.deepEqual(check.violations, []);
  t.true(check.signatureValid);
  t.is(check.commonName, 'barbican');
  t.deepEqual(check.notes, ['the CSR requests no extended key usage; the signer adds clientAuth']);

  const signed = await signCsr(ca, check, { validityDays: 30 });
  const cert = new X509Certificate(signed.certPem);
  t.true(cert.verify(caCert.publicKey));
  t.true(cert.checkIssued(caCert));
  t.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
  t.is(cert.subjectAltName, 'DNS:barbican.example.org, IP Address:192.0.2.7, email:ops@example.org');
  // The subject is the CSR's, byte for byte (RFC 2986 §4.1 subject becomes RFC 5280 §4.1.2.6 subject).
  t.is(signed.certificate.subject, csr.subject);
  t.deepEqual(signed.certificate.subjectName.toJSON(), csr.subjectName.toJSON());
  // EC: digitalSignature only (RFC 5280 §4.2.1.3; keyEncipherment means nothing for an EC key).
  t.is(signed.certificate.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
  t.is(signed.certificate.getExtension(x509.BasicConstraintsExtension)?.ca, false);
  const days = (signed.certificate.notAfter.getTime() - Date.now()) / 86_400_000;
  t.true(days > 29.9 && days <= 30);
});

test('an RSA CSR gets digitalSignature and keyEncipherment, and the default validity of 730 days', async (t) => {
  const { der } = await makeCsr({ subject: 'CN=pykmip' });
  const signed = await signCsr(ca, await checkCsr(der));
  const usages = signed.certificate.getExtension(x509.KeyUsagesExtension)?.usages;
  t.is(usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  const days = (signed.certificate.notAfter.getTime() - Date.now()) / 86_400_000;
  t.true(days > 729.9 && days <= 730);
});

test('a common name other than the expected username is exactly one precise violation', async (t) => {
  const { pem } = await makeCsr({ subject: 'CN=barbican-node1' });
  const check = await checkCsr(pem, { expectCn: 'barbican' });
  t.deepEqual(check.violations, [
    "CSR common name 'barbican-node1' does not equal the expected username 'barbican' (the KMIP server would " +
      'refuse this client in session-and-username mode)',
  ]);
  await t.throwsAsync(signCsr(ca, check), { instanceOf: CsrPolicyError });
});

test('a common name that differs only in letter case says so', async (t) => {
  const { pem } = await makeCsr({ subject: 'CN=Barbican' });
  const check = await checkCsr(pem, { expectCn: 'barbican' });
  t.is(check.violations.length, 1);
  t.regex(check.violations[0] ?? '', /; they differ only in letter case$/);
});

test('a 1024-bit RSA key is refused; --min-rsa-bits can lower the bar for a drill', async (t) => {
  const { der } = await makeCsr({ subject: 'CN=old', key: 'rsa-1024' });
  t.deepEqual((await checkCsr(der)).violations, ['RSA key is 1024 bits; at least 2048 required']);
  t.deepEqual((await checkCsr(der, { minRsaBits: 1024 })).violations, []);
  t.deepEqual((await checkCsr(der, { minRsaBits: 3072 })).violations, [
    'RSA key is 1024 bits; at least 3072 required',
  ]);
});

test('a CSR whose signature was altered is refused', async (t) => {
  const { der } = await makeCsr({ subject: 'CN=barbican' });
  const check = await checkCsr(tamperSignature(der), { expectCn: 'barbican' });
  t.false(check.signatureValid);
  t.deepEqual(check.violations, [
    'the CSR signature does not verify (the CSR was altered or the key does not match)',
  ]);
});

test('an EKU request without clientAuth is refused unless allowed, and then signed as asked', async (t) => {
  const { pem } = await makeCsr({
    subject: 'CN=web',
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])],
  });
  const refused = await checkCsr(pem);
  t.deepEqual(refused.violations, [
    'the CSR asks for no clientAuth extended key usage (it asks for serverAuth); the KMIP server would refuse ' +
      'the certificate for a client (--allow-no-client-auth signs it anyway, for drills)',
  ]);
  const allowed = await checkCsr(pem, { allowNoClientAuth: true });
  t.deepEqual(allowed.violations, []);
  t.regex(allowed.notes.join('\n'), /signed as asked \(--allow-no-client-auth\)/);
  const signed = await signCsr(ca, allowed);
  t.deepEqual(new X509Certificate(signed.certPem).keyUsage, [SERVER_AUTH]);
});

test('clientAuth with serverAuth keeps both; other purposes are dropped with a note', async (t) => {
  const { pem } = await makeCsr({
    subject: 'CN=both',
    extensions: [
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.codeSigning,
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
    ],
  });
  const check = await checkCsr(pem);
  t.deepEqual(check.violations, []);
  t.deepEqual(check.notes, [
    'the CSR also asks for codeSigning; not granted (the certificate carries clientAuth, serverAuth only)',
  ]);
  const signed = await signCsr(ca, check);
  t.deepEqual(new X509Certificate(signed.certPem).keyUsage, [CLIENT_AUTH, SERVER_AUTH]);
});

test('several violations are reported together', async (t) => {
  const { der } = await makeCsr({
    subject: 'O=Example',
    key: 'rsa-1024',
    extensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.emailProtection]),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'upn', value: 'svc@example.org' }]),
    ],
  });
  const check = await checkCsr(tamperSignature(der), { expectCn: 'barbican' });
  t.deepEqual(check.violations, [
    'the CSR signature does not verify (the CSR was altered or the key does not match)',
    "the CSR subject 'O=Example' has no common name (CN) (the expected username is 'barbican'); the KMIP " +
      "server names a client by its certificate's CN",
    'RSA key is 1024 bits; at least 2048 required',
    'the CSR asks for the subjectAltName UPN:svc@example.org, which the lab CA does not sign (DNS names, IP ' +
      'addresses, e-mail addresses and URIs only)',
    'the CSR asks for no clientAuth extended key usage (it asks for emailProtection); the KMIP server would ' +
      'refuse the certificate for a client (--allow-no-client-auth signs it anyway, for drills)',
    'the CSR asks to be a CA (basicConstraints cA=TRUE); the lab CA signs end-entity certificates only',
  ]);
  const error = await t.throwsAsync(signCsr(ca, check), { instanceOf: CsrPolicyError });
  t.is(error.violations.length, 6);
});

test('two common names are refused', async (t) => {
  const { pem } = await makeCsr({ subject: 'CN=a, CN=b' });
  t.deepEqual((await checkCsr(pem)).violations, [
    "the CSR subject has 2 common names ('a', 'b'); exactly one is needed, since the KMIP server names a " +
      'client by its CN',
  ]);
});

test('the validity never runs past the CA', async (t) => {
  const shortCa = await createCertificateAuthority({
    subject: { commonName: 'short CA' },
    ...validityFor(10),
    keyAlgorithm: 'ec-p256',
  });
  const { pem } = await makeCsr({ subject: 'CN=x', key: 'ec-p256' });
  const signed = await signCsr(shortCa, await checkCsr(pem), { validityDays: 730 });
  t.is(signed.certificate.notAfter.getTime(), shortCa.certificate.notAfter.getTime());
  t.regex(
    signed.notes.at(-1) ?? '',
    /^the validity ends with the CA's on .*, sooner than the 730 days asked for$/,
  );
});

test('a certificate, garbage or a key given as a CSR is refused with what it is', async (t) => {
  const issued = await issueCertificate(ca, {
    subject: { commonName: 'c' },
    sans: [],
    eku: [],
    ...validityFor(1),
  });
  t.throws(() => readCsr(issued.certPem), {
    instanceOf: PkiParseError,
    message: 'the file holds a certificate, not a certificate signing request (CSR)',
  });
  t.throws(() => readCsr(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), {
    instanceOf: PkiParseError,
    message: /neither PEM nor a DER certificate or certificate request/,
  });
  t.throws(() => readCsr(issued.keyPem), {
    instanceOf: PkiParseError,
    message: /PRIVATE KEY \(a private key/,
  });
  t.throws(() => readCsr(''), { instanceOf: PkiParseError, message: 'the file is empty' });
});

const openssl = opensslPath();

test('CSRs made by openssl req (PEM and DER) are checked and signed', async (t) => {
  if (openssl === undefined) {
    t.log('skipped: no openssl binary on PATH (`which openssl` found nothing)');
    t.pass();
    return;
  }
  const dir = tempDir('openssl-csr');
  const pemPath = join(dir, 'req.csr');
  const made = spawnSync(
    openssl,
    [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'req.key'),
      '-subj',
      '/C=US/O=Example/CN=barbican',
      '-addext',
      'subjectAltName=DNS:barbican.example.org,IP:10.0.0.5',
      '-addext',
      'extendedKeyUsage=clientAuth',
      '-out',
      pemPath,
    ],
    { encoding: 'utf8' },
  );
  t.is(made.status, 0, made.stderr);
  const derPath = join(dir, 'req.der');
  const converted = spawnSync(openssl, ['req', '-in', pemPath, '-outform', 'DER', '-out', derPath], {
    encoding: 'utf8',
  });
  t.is(converted.status, 0, converted.stderr);
  for (const path of [pemPath, derPath]) {
    const check = await checkCsr(readFileSync(path), { expectCn: 'barbican' });
    t.deepEqual(check.violations, [], path);
    t.deepEqual(check.notes, [], path);
    const signed = await signCsr(ca, check);
    const cert = new X509Certificate(signed.certPem);
    t.true(cert.verify(caCert.publicKey));
    t.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
    t.is(cert.subjectAltName, 'DNS:barbican.example.org, IP Address:10.0.0.5');
    t.is(cert.subject, 'C=US\nO=Example\nCN=barbican');
    // openssl itself agrees the result is a client certificate of this CA.
    const certPath = join(dir, 'signed.pem');
    writeFileSync(certPath, signed.certPem);
    const verified = spawnSync(
      openssl,
      ['verify', '-CAfile', join(certsDir, 'ca.pem'), '-purpose', 'sslclient', certPath],
      { encoding: 'utf8' },
    );
    t.is(verified.status, 0, verified.stderr + verified.stdout);
  }
});

test('an openssl CSR on a curve other than P-256, P-384 and P-521 is refused', async (t) => {
  if (openssl === undefined) {
    t.log('skipped: no openssl binary on PATH (`which openssl` found nothing)');
    t.pass();
    return;
  }
  const dir = tempDir('openssl-k1');
  const made = spawnSync(
    openssl,
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp256k1',
      '-nodes',
      '-keyout',
      join(dir, 'k.key'),
      '-subj',
      '/CN=k1',
      '-out',
      join(dir, 'k.csr'),
    ],
    { encoding: 'utf8' },
  );
  t.is(made.status, 0, made.stderr);
  const check = await checkCsr(readFileSync(join(dir, 'k.csr')));
  // Node's WebCrypto cannot verify a secp256k1 signature either: that is said, not hidden.
  t.true(check.violations.includes('EC key is on curve secp256k1; only P-256, P-384 and P-521 are accepted'));
});
