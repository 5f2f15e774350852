/** The lab PKI's files: what is made, with which modes and contents, and that a second run changes nothing. */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import {
  ensureLabPki,
  issueClientCertificate,
  labPkiPaths,
  loadLabCa,
  type LabPkiPaths,
} from '../../src/pki/lab-pki.js';
import { addDays, issueCertificate } from '../../src/pki/issue.js';
import { x509 } from '../../src/pki/x509.js';
import { signatureHash, removeTempDirs, tempDir } from './support.js';

test.after.always(removeTempDirs);

const mode = (path: string) => statSync(path).mode & 0o777;

function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

let certsDir: string;
let paths: LabPkiPaths;
let firstMade: string[];

test.before(async () => {
  certsDir = join(tempDir('lab'), 'certs');
  const result = await ensureLabPki(certsDir);
  paths = result.paths;
  firstMade = result.made;
});

test('the first run makes the CA, the server and the admin certificates', (t) => {
  t.deepEqual(firstMade, [
    'lab CA (ca.pem)',
    'server certificate (server.pem, server.key)',
    'admin client certificate (admin.pem, admin.key)',
  ]);
  t.deepEqual(paths, labPkiPaths(certsDir));
  t.deepEqual(readdirSync(certsDir).sort(), [
    'admin.key',
    'admin.pem',
    'ca.key',
    'ca.pem',
    'server.key',
    'server.pem',
  ]);
});

test('keys are 0600 PKCS#8 PEM, certificates 0644, the directory 0700', (t) => {
  t.is(mode(certsDir), 0o700);
  for (const key of [paths.caKey, paths.serverKey, paths.adminKey]) {
    t.is(mode(key), 0o600, key);
    t.true(readFileSync(key, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----\n'), key);
  }
  for (const cert of [paths.ca, paths.serverCert, paths.adminCert]) t.is(mode(cert), 0o644, cert);
});

test('the CA: RSA-3072, SHA-256, critical CA:true, keyCertSign+cRLSign, a unique name, ten years', (t) => {
  const ca = new x509.X509Certificate(readFileSync(paths.ca, 'utf8'));
  const basic = ca.getExtension(x509.BasicConstraintsExtension);
  t.true(basic?.ca);
  t.true(basic?.critical);
  const usage = ca.getExtension(x509.KeyUsagesExtension);
  t.is(usage?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  t.true(usage?.critical);
  t.regex(ca.subject, /CN=kmipd lab CA [0-9a-f]{8}/);
  t.is(ca.subject, ca.issuer);
  t.is(signatureHash(ca), 'SHA-256');
  t.is(createPrivateKey(readFileSync(paths.caKey)).asymmetricKeyDetails?.modulusLength, 3072);
  const years = (ca.notAfter.getTime() - ca.notBefore.getTime()) / (365 * 24 * 3600 * 1000);
  t.true(years > 9.9 && years < 10.1, String(years));
});

test('the leaves: RSA-2048, SHA-256, digitalSignature+keyEncipherment, the right EKU and SANs', (t) => {
  const expected = { serverCert: '1.3.6.1.5.5.7.3.1', adminCert: '1.3.6.1.5.5.7.3.2' } as const;
  for (const [which, eku] of Object.entries(expected) as [keyof typeof expected, string][]) {
    const cert = new x509.X509Certificate(readFileSync(paths[which], 'utf8'));
    t.is(signatureHash(cert), 'SHA-256', which);
    t.is(
      cert.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      which,
    );
    t.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [eku], which);
    t.false(cert.getExtension(x509.BasicConstraintsExtension)?.ca, which);
  }
  for (const key of [paths.serverKey, paths.adminKey]) {
    t.is(createPrivateKey(readFileSync(key)).asymmetricKeyDetails?.modulusLength, 2048, key);
  }
  const server = new X509Certificate(readFileSync(paths.serverCert));
  t.is(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  const days = (Date.parse(server.validTo) - Date.parse(server.validFrom)) / (24 * 3600 * 1000);
  t.true(days > 729 && days < 731, String(days));
  t.regex(new X509Certificate(readFileSync(paths.adminCert)).subject, /^CN=admin$/m);
});

test('a second run makes nothing and leaves every file byte-identical', async (t) => {
  const before = snapshot(certsDir);
  const again = await ensureLabPki(certsDir);
  t.deepEqual(again.made, []);
  t.deepEqual(snapshot(certsDir), before);
});

test('a missing server certificate is re-issued from the existing CA; nothing else changes', async (t) => {
  const dir = join(tempDir('lab-partial'), 'certs');
  await ensureLabPki(dir);
  const before = snapshot(dir);
  rmSync(join(dir, 'server.pem'));
  const result = await ensureLabPki(dir);
  t.deepEqual(result.made, ['server certificate (server.pem, server.key)']);
  const after = snapshot(dir);
  for (const name of ['ca.pem', 'ca.key', 'admin.pem', 'admin.key'])
    t.deepEqual(after.get(name), before.get(name));
  t.notDeepEqual(after.get('server.key'), before.get('server.key'));
  const server = new X509Certificate(readFileSync(join(dir, 'server.pem')));
  t.true(server.checkIssued(new X509Certificate(readFileSync(join(dir, 'ca.pem')))));
  t.true(server.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'server.key')))));
});

test('a server name the certificate lacks gets it re-issued, covering that name', async (t) => {
  const dir = join(tempDir('lab-names'), 'certs');
  await ensureLabPki(dir);
  const result = await ensureLabPki(dir, { serverNames: ['kmip.example.net', '192.0.2.7'] });
  t.deepEqual(result.made, [
    'server certificate (server.pem, server.key), re-issued: it did not cover kmip.example.net, 192.0.2.7',
  ]);
  const server = new X509Certificate(readFileSync(join(dir, 'server.pem')));
  t.is(server.checkHost('kmip.example.net'), 'kmip.example.net');
  t.is(server.checkIP('192.0.2.7'), '192.0.2.7');
  t.is(server.checkHost('localhost'), 'localhost');
  t.deepEqual((await ensureLabPki(dir, { serverNames: ['kmip.example.net'] })).made, []);
});

test('a new CA (ca.pem removed) re-issues both leaves', async (t) => {
  const dir = join(tempDir('lab-newca'), 'certs');
  await ensureLabPki(dir);
  rmSync(join(dir, 'ca.pem'));
  const result = await ensureLabPki(dir);
  t.deepEqual(result.made, [
    'lab CA (ca.pem)',
    'server certificate (server.pem, server.key), re-issued: the lab CA is new',
    'admin client certificate (admin.pem, admin.key), re-issued: the lab CA is new',
  ]);
});

test('an expired admin certificate is re-issued', async (t) => {
  const dir = join(tempDir('lab-expired'), 'certs');
  await ensureLabPki(dir);
  const now = new Date();
  const expired = await issueCertificate(await loadLabCa(dir), {
    subject: { commonName: 'admin' },
    sans: [],
    eku: ['clientAuth'],
    notBefore: addDays(now, -30),
    notAfter: addDays(now, -1),
  });
  writeFileSync(join(dir, 'admin.pem'), expired.certPem);
  writeFileSync(join(dir, 'admin.key'), expired.keyPem);
  const result = await ensureLabPki(dir);
  t.is(result.made.length, 1);
  t.regex(
    result.made[0] ?? '',
    /^admin client certificate \(admin\.pem, admin\.key\), re-issued: it expired on 20/,
  );
  t.true(Date.parse(new X509Certificate(readFileSync(join(dir, 'admin.pem'))).validTo) > Date.now());
});

test('ca.pem without ca.key is an error that says what to do, and nothing is written', async (t) => {
  const dir = join(tempDir('lab-nokey'), 'certs');
  await ensureLabPki(dir);
  rmSync(join(dir, 'ca.key'));
  rmSync(join(dir, 'server.pem'));
  await t.throwsAsync(ensureLabPki(dir), {
    message: /ca\.key is missing: restore the key, or remove .*ca\.pem/,
  });
  t.false(existsSync(join(dir, 'server.pem')));
});

test('a CA key that is not the CA certificate is refused', async (t) => {
  const dir = join(tempDir('lab-wrongkey'), 'certs');
  await ensureLabPki(dir);
  writeFileSync(join(dir, 'ca.key'), readFileSync(join(dir, 'server.key')));
  await t.throwsAsync(ensureLabPki(dir), { message: /cannot be used: the private key does not belong/ });
});

test('issueClientCertificate writes <cn>.pem, <cn>.key (exactly 0400) and ca.pem', async (t) => {
  const out = join(tempDir('issue'), 'client');
  const files = await issueClientCertificate(certsDir, { cn: 'barbican', outDir: out });
  t.deepEqual(files, {
    cert: join(out, 'barbican.pem'),
    key: join(out, 'barbican.key'),
    ca: join(out, 'ca.pem'),
    notAfter: files.notAfter,
  });
  t.is(mode(files.key), 0o400);
  // What Barbican's kmip_plugin checks: st_mode == S_IFREG | S_IRUSR.
  t.is(statSync(files.key).mode, 0o100400);
  t.is(mode(files.cert), 0o644);
  t.deepEqual(readFileSync(files.ca), readFileSync(paths.ca));
  t.true(readFileSync(files.key, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----\n'));
  const cert = new X509Certificate(readFileSync(files.cert));
  t.regex(cert.subject, /^CN=barbican$/m);
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  t.true(cert.checkIssued(new X509Certificate(readFileSync(paths.ca))));
  t.true(cert.checkPrivateKey(createPrivateKey(readFileSync(files.key))));
  t.deepEqual(readdirSync(out).sort(), ['barbican.key', 'barbican.pem', 'ca.pem']);
});

test('issuing again replaces a read-only 0400 key and leaves no temporary file', async (t) => {
  const out = tempDir('issue-again');
  const first = await issueClientCertificate(certsDir, { cn: 'pykmip', outDir: out });
  const firstKey = readFileSync(first.key);
  chmodSync(first.key, 0o400);
  const second = await issueClientCertificate(certsDir, { cn: 'pykmip', outDir: out, validityDays: 30 });
  t.notDeepEqual(readFileSync(second.key), firstKey);
  t.is(mode(second.key), 0o400);
  t.true(
    new X509Certificate(readFileSync(second.cert)).checkPrivateKey(
      createPrivateKey(readFileSync(second.key)),
    ),
  );
  t.true(second.notAfter.getTime() - Date.now() < 31 * 24 * 3600 * 1000);
  t.deepEqual(readdirSync(out).sort(), ['ca.pem', 'pykmip.key', 'pykmip.pem']);
});

test('a CN that is not a safe file name is refused before anything is written', async (t) => {
  const out = tempDir('issue-unsafe');
  const cases: [string, RegExp][] = [
    ['', /is empty/],
    ['../evil', /path separator/],
    ['a/b', /path separator/],
    ['a\\b', /path separator/],
    ['..', /'\.\.'/],
    ['x..y', /'\.\.'/],
    ['.hidden', /only letters, digits/],
    ['-rf', /only letters, digits/],
    ['two words', /only letters, digits/],
    ['x'.repeat(65), /at most 64/],
  ];
  for (const [cn, message] of cases) {
    await t.throwsAsync(
      issueClientCertificate(certsDir, { cn, outDir: out }),
      { message },
      JSON.stringify(cn),
    );
  }
  t.deepEqual(readdirSync(out), []);
});

test("a CN whose files would overwrite ca.pem or the lab PKI's own files is refused", async (t) => {
  await t.throwsAsync(issueClientCertificate(certsDir, { cn: 'ca', outDir: tempDir('issue-ca') }), {
    message: /would overwrite the CA certificate/,
  });
  const before = snapshot(certsDir);
  for (const cn of ['server', 'admin', 'ca']) {
    await t.throwsAsync(issueClientCertificate(certsDir, { cn, outDir: certsDir }), {
      message: /would overwrite/,
    });
  }
  t.deepEqual(snapshot(certsDir), before);
});

test('issueClientCertificate without a lab CA says so', async (t) => {
  await t.throwsAsync(issueClientCertificate(tempDir('no-ca'), { cn: 'x', outDir: tempDir('no-ca-out') }), {
    message: /no lab CA in/,
  });
});
