/**
 * The drills' classification against small node:tls servers that each behave in one known way: one that lets
 * anybody in, one that answers Authentication Not Successful, one that closes, one that never answers, node:tls's
 * own refusals (rejectUnauthorized) in TLS 1.2 and 1.3, and servers the drill cannot test at all.
 */
import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import test from 'ava';
import { enumValue } from '../../src/kmip/vocabulary.js';
import { createCertificateAuthority, addDays } from '../../src/pki/issue.js';
import { ensureLabPki } from '../../src/pki/lab-pki.js';
import { drills } from '../../src/drill/drills.js';
import type { Outcome } from '../../src/drill/outcome.js';
import { exitStatus, formatTable } from '../../src/drill/report.js';
import { loadDrillCa, runDrills, type DrillOptions, type DrillReport } from '../../src/drill/run.js';
import type { CertificateAuthority } from '../../src/pki/issue.js';
import {
  AUTH_MESSAGE,
  closedPort,
  makeTestPki,
  startFakeServer,
  startMuteTcpServer,
  type Behaviour,
  type FakeServer,
  type TestPki,
} from './support.js';
import type tls from 'node:tls';

let pki: TestPki;
let ca: CertificateAuthority;
const servers: { close(): Promise<void> }[] = [];

test.before(async () => {
  pki = await makeTestPki();
  ({ ca } = await loadDrillCa(pki.certsDir));
});

test.after.always(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await pki.dispose();
});

async function fake(behaviour: Behaviour, options: tls.TlsOptions = {}): Promise<FakeServer> {
  const server = await startFakeServer(pki, behaviour, options);
  servers.push(server);
  return server;
}

function drillOptions(port: number, extra: Partial<DrillOptions> = {}): DrillOptions {
  return { host: '127.0.0.1', port, ca, serverCa: pki.ca, timeoutMs: 5000, ...extra };
}

function outcomeOf(report: DrillReport, name: string): Outcome {
  const result = report.results.find((candidate) => candidate.drill.name === name);
  if (!result) throw new Error(`no result for drill ${name}`);
  return result.outcome;
}

function verdicts(report: DrillReport): Record<string, string> {
  return Object.fromEntries(report.results.map((result) => [result.drill.name, result.verdict]));
}

/** Legacy versions too, so that (where the local OpenSSL speaks them) the TLS 1.0/1.1 drills get in. */
const ANYTHING_GOES: tls.TlsOptions = {
  requestCert: false,
  minVersion: 'TLSv1',
  ciphers: 'DEFAULT@SECLEVEL=0',
};

test.serial(
  'a server that lets anybody in fails every "refused" expectation, and the exit status is 1',
  async (t) => {
    const server = await fake('success', ANYTHING_GOES);
    const report = await runDrills(drillOptions(server.port, { username: 'alice', password: 'secret' }));
    for (const result of report.results) {
      const { drill, outcome } = result;
      if (outcome.kind === 'skipped') {
        // Only the legacy versions may be skipped, and only because this side cannot speak them.
        t.true(drill.tlsVersion === 'TLSv1' || drill.tlsVersion === 'TLSv1.1', drill.name);
        t.regex(outcome.reason, /^local OpenSSL does not speak/, drill.name);
        continue;
      }
      t.is(outcome.kind, 'accepted', drill.name);
      t.is(result.verdict, drill.expect === 'accepted' ? 'as-expected' : 'not-as-expected', drill.name);
    }
    const accepted = drills.filter((drill) => drill.expect === 'accepted').length;
    t.is(report.asExpected, accepted);
    t.is(report.notAsExpected + report.skipped, drills.length - accepted);
    t.true(report.notAsExpected >= 7);
    t.is(exitStatus(report), 1);
    t.regex(
      formatTable(report),
      new RegExp(
        `\n${accepted} drills as expected, ${report.notAsExpected} not, ${report.skipped} skipped\n$`,
      ),
    );
  },
);

test.serial('each drill presents the certificate and Credential it claims', async (t) => {
  // Asks for a certificate but accepts any, so that it can record what each drill presented.
  const server = await fake('success', { ...ANYTHING_GOES, requestCert: true, rejectUnauthorized: false });
  const only = [
    'valid',
    'no-certificate',
    'untrusted-ca',
    'expired',
    'not-yet-valid',
    'no-client-auth',
    'cn-mismatch',
    'wrong-password',
    'tls1.2',
    'tls1.3',
  ];
  const report = await runDrills(drillOptions(server.port, { username: 'alice', password: 'secret', only }));
  t.is(report.results.filter((result) => result.outcome.kind === 'accepted').length, only.length);
  t.is(server.seen.length, only.length);
  const seen = new Map(only.map((name, index) => [name, server.seen[index]]));
  const labCa = new X509Certificate(pki.ca);
  const now = new Date();
  const cert = (name: string): X509Certificate => {
    const certificate = seen.get(name)?.certificate;
    if (!certificate) throw new Error(`${name} presented no certificate`);
    return certificate;
  };
  const validity = (certificate: X509Certificate) =>
    [new Date(certificate.validFrom), new Date(certificate.validTo)] as const;

  t.is(seen.get('no-certificate')?.certificate, undefined);
  // By default the valid CN is the username: a session-and-username server wants the two equal.
  t.is(
    cert('valid')
      .subject.split('\n')
      .find((line) => line.startsWith('CN=')),
    'CN=alice',
  );
  t.true(cert('valid').checkIssued(labCa));
  t.true(cert('valid').verify(labCa.publicKey));
  t.false(cert('untrusted-ca').checkIssued(labCa));
  t.true(validity(cert('expired'))[1] < now);
  t.true(validity(cert('not-yet-valid'))[0] > now);
  for (const name of ['valid', 'expired', 'not-yet-valid', 'cn-mismatch']) {
    t.true(cert(name).verify(labCa.publicKey), name);
    t.deepEqual(cert(name).keyUsage, ['1.3.6.1.5.5.7.3.2'], name);
  }
  t.deepEqual(cert('no-client-auth').keyUsage, ['1.3.6.1.5.5.7.3.1']);
  const [from, to] = validity(cert('valid'));
  t.true(from < now && now < to);
  t.not(cert('cn-mismatch').subject, cert('valid').subject);
  t.false(
    cert('cn-mismatch').subject.includes('CN=alice\n') || cert('cn-mismatch').subject.endsWith('CN=alice'),
  );

  for (const [name, connection] of seen) {
    t.is(connection?.operation, enumValue('Operation', 'Query'), name);
    t.is(connection?.username, 'alice', name);
    if (name === 'wrong-password') t.not(connection?.password, 'secret', name);
    else t.is(connection?.password, 'secret', name);
  }
  t.truthy(seen.get('wrong-password')?.password);
  t.is(seen.get('tls1.2')?.protocol, 'TLSv1.2');
  t.is(seen.get('tls1.3')?.protocol, 'TLSv1.3');
});

test.serial(
  'without a username no Credential is sent, and an explicit --cn names the certificate',
  async (t) => {
    const server = await fake('success', { requestCert: true, rejectUnauthorized: false });
    const report = await runDrills(drillOptions(server.port, { cn: 'svc-backup', only: ['valid'] }));
    t.is(outcomeOf(report, 'valid').kind, 'accepted');
    t.is(server.seen[0]?.username, undefined);
    t.is(server.seen[0]?.password, undefined);
    t.true(server.seen[0]?.certificate?.subject.includes('CN=svc-backup'));
  },
);

test.serial(
  'Authentication Not Successful and a close meets every refusal but the certificate is fine',
  async (t) => {
    const server = await fake('auth-refused', { requestCert: true, rejectUnauthorized: false });
    const report = await runDrills(
      drillOptions(server.port, {
        username: 'alice',
        password: 'secret',
        only: ['valid', 'expired', 'cn-mismatch', 'wrong-password', 'tls1.3'],
      }),
    );
    for (const result of report.results) {
      t.deepEqual(
        result.outcome,
        {
          kind: 'kmip-refused',
          protocol: 'TLSv1.3',
          status: 'OperationFailed',
          reason: 'AuthenticationNotSuccessful',
          message: AUTH_MESSAGE,
          closed: true,
        },
        result.drill.name,
      );
    }
    t.deepEqual(verdicts(report), {
      valid: 'not-as-expected',
      expired: 'as-expected',
      'cn-mismatch': 'as-expected',
      'wrong-password': 'as-expected',
      'tls1.3': 'not-as-expected',
    });
    t.regex(
      formatTable(report),
      new RegExp(
        `refused with KMIP Result Reason AuthenticationNotSuccessful: ${AUTH_MESSAGE}, then closed the connection`,
      ),
    );
  },
);

test.serial(
  'Authentication Not Successful with the connection left open is not a strict refusal of a certificate',
  async (t) => {
    const server = await fake('auth-refused-open');
    const report = await runDrills(
      drillOptions(server.port, { username: 'alice', only: ['expired', 'wrong-password'] }),
    );
    t.like(outcomeOf(report, 'expired'), {
      kind: 'kmip-refused',
      reason: 'AuthenticationNotSuccessful',
      closed: false,
    });
    // The wrong-password expectation asks only for the KMIP reason.
    t.deepEqual(verdicts(report), { expired: 'not-as-expected', 'wrong-password': 'as-expected' });
    t.regex(formatTable(report), /and left the connection open/);
  },
);

test.serial('a server that closes after the handshake: closed without a response', async (t) => {
  const server = await fake('close', { requestCert: true, rejectUnauthorized: false });
  const report = await runDrills(drillOptions(server.port, { only: ['valid', 'expired', 'tls1.2'] }));
  t.like(outcomeOf(report, 'valid'), { kind: 'closed', protocol: 'TLSv1.3' });
  t.like(outcomeOf(report, 'tls1.2'), { kind: 'closed', protocol: 'TLSv1.2' });
  t.deepEqual(verdicts(report), {
    valid: 'not-as-expected',
    expired: 'as-expected',
    'tls1.2': 'not-as-expected',
  });
  t.regex(formatTable(report), /connection closed after the handshake without a response \(TLSv1\.3\)/);
});

test.serial('a server that never answers: timed out waiting for the response', async (t) => {
  const server = await fake('silent');
  const report = await runDrills(drillOptions(server.port, { timeoutMs: 1500, only: ['valid', 'expired'] }));
  t.deepEqual(outcomeOf(report, 'valid'), { kind: 'timed-out', phase: 'response', ms: 1500 });
  t.deepEqual(outcomeOf(report, 'expired'), { kind: 'timed-out', phase: 'response', ms: 1500 });
  // A hang is not a refusal.
  t.deepEqual(verdicts(report), { valid: 'not-as-expected', expired: 'not-as-expected' });
});

test.serial('a TCP peer that never speaks TLS: timed out in the handshake', async (t) => {
  const mute = await startMuteTcpServer();
  servers.push(mute);
  const report = await runDrills(drillOptions(mute.port, { timeoutMs: 1500, only: ['valid'] }));
  t.deepEqual(outcomeOf(report, 'valid'), { kind: 'timed-out', phase: 'handshake', ms: 1500 });
});

test.serial('an answer that is not KMIP is a bad response', async (t) => {
  const server = await fake('garbage');
  const report = await runDrills(drillOptions(server.port, { only: ['valid'] }));
  const outcome = outcomeOf(report, 'valid');
  t.is(outcome.kind, 'bad-response');
  if (outcome.kind === 'bad-response') t.regex(outcome.error, /^not a KMIP message/);
});

test.serial(
  'node:tls refusing certificates itself, TLS 1.2: alerts and resets in the handshake',
  async (t) => {
    const server = await fake('success', {
      requestCert: true,
      rejectUnauthorized: true,
      maxVersion: 'TLSv1.2',
    });
    const report = await runDrills(
      drillOptions(server.port, {
        only: ['valid', 'no-certificate', 'untrusted-ca', 'expired', 'no-client-auth'],
      }),
    );
    t.like(outcomeOf(report, 'valid'), { kind: 'accepted', protocol: 'TLSv1.2' });
    // OpenSSL itself refuses a missing certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT): handshake_failure.
    t.like(outcomeOf(report, 'no-certificate'), {
      kind: 'tls-refused',
      phase: 'handshake',
      alert: { number: 40, name: 'handshake_failure' },
      error: { code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' },
    });
    // node:tls checks the chain after OpenSSL's handshake and destroys the socket, with no alert.
    for (const name of ['untrusted-ca', 'expired', 'no-client-auth']) {
      t.like(
        outcomeOf(report, name),
        { kind: 'tls-refused', phase: 'handshake', alert: undefined, error: { code: 'ECONNRESET' } },
        name,
      );
    }
    t.is(report.notAsExpected, 0);
  },
);

test.serial(
  'node:tls refusing certificates itself, TLS 1.3: the refusal comes after the client handshake',
  async (t) => {
    const server = await fake('success', { requestCert: true, rejectUnauthorized: true });
    const report = await runDrills(
      drillOptions(server.port, { only: ['valid', 'no-certificate', 'expired'] }),
    );
    t.like(outcomeOf(report, 'valid'), { kind: 'accepted', protocol: 'TLSv1.3' });
    // RFC 8446 §4.4.2.4: the server's certificate_required alert arrives on the first read.
    t.like(outcomeOf(report, 'no-certificate'), {
      kind: 'tls-refused',
      phase: 'after-handshake',
      protocol: 'TLSv1.3',
      alert: { number: 116, name: 'certificate_required' },
      error: { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' },
    });
    t.like(outcomeOf(report, 'expired'), { kind: 'closed', protocol: 'TLSv1.3' });
    t.is(report.notAsExpected, 0);
    t.regex(
      formatTable(report),
      /refused in the TLS handshake: alert 116 certificate_required \(after the client's side of the TLSv1\.3 handshake/,
    );
  },
);

test.serial('nothing listening: not tested, and not as expected', async (t) => {
  const port = await closedPort();
  const report = await runDrills(drillOptions(port, { only: ['valid', 'expired'] }));
  for (const name of ['valid', 'expired']) {
    t.like(
      outcomeOf(report, name),
      { kind: 'client-error', what: 'no TCP connection to the server', error: { code: 'ECONNREFUSED' } },
      name,
    );
  }
  t.is(exitStatus(report), 1);
});

test.serial('a server whose certificate the drill does not trust is not tested', async (t) => {
  const server = await fake('success');
  const other = await createCertificateAuthority({
    subject: { commonName: 'some other CA' },
    notBefore: addDays(new Date(), -1),
    notAfter: addDays(new Date(), 1),
    keyAlgorithm: 'ec-p256',
  });
  const report = await runDrills(drillOptions(server.port, { serverCa: other.certPem, only: ['valid'] }));
  const outcome = outcomeOf(report, 'valid');
  t.is(outcome.kind, 'client-error');
  if (outcome.kind === 'client-error') {
    t.regex(outcome.what, /^the drill does not trust the server's certificate/);
    // Which of the two depends on whether the server sends its CA along with its certificate.
    t.regex(outcome.error.code ?? '', /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
  }
  t.is(server.seen.length, 0);
});

test.serial('a server name the server certificate does not cover is not tested', async (t) => {
  const server = await fake('success');
  const report = await runDrills(
    drillOptions(server.port, { serverName: 'kmip.example.com', only: ['valid'] }),
  );
  t.like(outcomeOf(report, 'valid'), {
    kind: 'client-error',
    error: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  });
  t.is(server.seen.length, 0);
});

test.serial('a CA directory without ca.key is refused with the reason', async (t) => {
  const { paths } = await ensureLabPki(`${pki.certsDir}-copy`);
  await rm(paths.caKey);
  await t.throwsAsync(loadDrillCa(`${pki.certsDir}-copy`), { message: /ca\.pem and ca\.key/ });
  await rm(`${pki.certsDir}-copy`, { recursive: true });
});
