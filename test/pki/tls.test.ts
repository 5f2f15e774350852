/**
 * The lab PKI in a real node:tls mutual-TLS handshake, configured as the KMIP listener is (requestCert,
 * rejectUnauthorized, the lab CA as the only trust anchor).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import test, { type ExecutionContext } from 'ava';
import { ensureLabPki, issueClientCertificate, loadLabCa, type LabPkiPaths } from '../../src/pki/lab-pki.js';
import { addDays, issueCertificate } from '../../src/pki/issue.js';
import { writeFileAtomic } from '../../src/pki/files.js';
import {
  connectClient,
  startMutualTlsServer,
  removeTempDirs,
  tempDir,
  type ClientFiles,
  type MutualTlsServer,
} from './support.js';

test.after.always(removeTempDirs);

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

let lab: LabPkiPaths;
let labDir: string;
let foreign: LabPkiPaths;
let server: MutualTlsServer;
/** The same, but it names why it refuses a client (see ServerOutcome). */
let diagnosing: MutualTlsServer;

test.before(async () => {
  labDir = join(tempDir('tls'), 'certs');
  [lab, foreign] = await Promise.all([
    ensureLabPki(labDir).then((result) => result.paths),
    ensureLabPki(join(tempDir('tls-foreign'), 'certs')).then((result) => result.paths),
  ]);
  const files = { ca: lab.ca, cert: lab.serverCert, key: lab.serverKey };
  server = await startMutualTlsServer(files);
  diagnosing = await startMutualTlsServer(files, { diagnose: true });
});

test.after.always(async () => {
  await Promise.all([server.close(), diagnosing.close()]);
});

/**
 * `client` is refused by the strict server (no handshake completes, the client reads nothing) and the diagnosing
 * server names `reason` as the cause.
 */
async function assertRefused(t: ExecutionContext, client: ClientFiles, reason: string, label?: string) {
  const strict = await connectClient(server.port, client);
  const strictSaw = await server.nextOutcome();
  t.false(strict.ok, label);
  t.false(strictSaw.ok, label);
  const diagnosed = await connectClient(diagnosing.port, client);
  const diagnosingSaw = await diagnosing.nextOutcome();
  t.false(diagnosed.ok, label);
  t.deepEqual(diagnosingSaw, { ok: false, authorizationError: reason }, label);
}

// Connections share one server, so one at a time keeps each outcome paired with its client.
test.serial('admin completes a mutual-TLS handshake and the server sees CN=admin', async (t) => {
  const client = await connectClient(server.port, { ca: lab.ca, cert: lab.adminCert, key: lab.adminKey });
  const seen = await server.nextOutcome();
  t.deepEqual(client, { ok: true, greeting: 'ok\n' });
  t.deepEqual(seen, { ok: true, peerCn: 'admin' });
});

test.serial(
  'a client certificate from a different lab CA is refused as from an unknown issuer',
  async (t) => {
    // OpenSSL's "unable to get local issuer certificate": the issuer is not a trusted CA.
    await assertRefused(
      t,
      { ca: lab.ca, cert: foreign.adminCert, key: foreign.adminKey },
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  },
);

test.serial('a client without a certificate is refused', async (t) => {
  // node:tls's code when the peer sent no certificate at all.
  await assertRefused(t, { ca: lab.ca }, 'UNABLE_TO_GET_ISSUER_CERT');
});

test.serial('a certificate from issue-client completes a handshake under its own CN', async (t) => {
  const out = tempDir('tls-out');
  const files = await issueClientCertificate(labDir, { cn: 'barbican', outDir: out });
  const client = await connectClient(server.port, { ca: files.ca, cert: files.cert, key: files.key });
  const seen = await server.nextOutcome();
  t.true(client.ok);
  t.deepEqual(seen, { ok: true, peerCn: 'barbican' });
});

test.serial('a certificate issued without clientAuth is refused', async (t) => {
  const out = tempDir('tls-noclientauth');
  const files = await issueClientCertificate(labDir, { cn: 'webserver', outDir: out, clientAuth: false });
  await assertRefused(t, { ca: files.ca, cert: files.cert, key: files.key }, 'INVALID_PURPOSE');
});

test.serial('expired and not-yet-valid client certificates from the lab CA are refused', async (t) => {
  const ca = await loadLabCa(labDir);
  const now = new Date();
  const windows = {
    expired: { notBefore: addDays(now, -30), notAfter: addDays(now, -1) },
    future: { notBefore: addDays(now, 1), notAfter: addDays(now, 30) },
  };
  for (const [name, window] of Object.entries(windows)) {
    const issued = await issueCertificate(ca, {
      subject: { commonName: name },
      sans: [],
      eku: ['clientAuth'],
      ...window,
    });
    const dir = tempDir(`tls-${name}`);
    await writeFileAtomic(join(dir, 'c.pem'), issued.certPem, 0o644);
    await writeFileAtomic(join(dir, 'c.key'), issued.keyPem, 0o600);
    const reason = name === 'expired' ? 'CERT_HAS_EXPIRED' : 'CERT_NOT_YET_VALID';
    await assertRefused(t, { ca: lab.ca, cert: join(dir, 'c.pem'), key: join(dir, 'c.key') }, reason, name);
  }
});

test('the server certificate verifies for localhost, 127.0.0.1 and ::1, and not for another name', (t) => {
  const peer = new X509Certificate(readFileSync(lab.serverCert)).toLegacyObject();
  t.is(tls.checkServerIdentity('localhost', peer), undefined);
  t.is(tls.checkServerIdentity('127.0.0.1', peer), undefined);
  t.is(tls.checkServerIdentity('::1', peer), undefined);
  t.truthy(tls.checkServerIdentity('kmip.example.com', peer));
});

test('the server certificate is for serverAuth and the admin certificate for clientAuth', (t) => {
  const serverCert = new X509Certificate(readFileSync(lab.serverCert));
  const admin = new X509Certificate(readFileSync(lab.adminCert));
  const ca = new X509Certificate(readFileSync(lab.ca));
  // Node 20 names the extendedKeyUsage list `keyUsage`.
  t.deepEqual(serverCert.keyUsage, [SERVER_AUTH]);
  t.deepEqual(admin.keyUsage, [CLIENT_AUTH]);
  t.true(ca.ca);
  t.false(serverCert.ca);
  t.true(serverCert.checkIssued(ca) && serverCert.verify(ca.publicKey));
  t.true(admin.checkIssued(ca) && admin.verify(ca.publicKey));
  t.regex(ca.subject, /CN=kmipd lab CA [0-9a-f]{8}/);
  t.is(
    admin.subject.split('\n').find((line) => line.startsWith('CN=')),
    'CN=admin',
  );
});
