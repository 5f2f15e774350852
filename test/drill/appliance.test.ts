/**
 * The drills against a real appliance (SoftHSM2, LevelDB, mutual TLS), through the API and through the command.
 * The server's Credential checks are being built, so the two Credential drills are only checked to run and be
 * classified; everything about certificates and TLS versions is checked as the server does it today.
 */
import { join } from 'node:path';
import test from 'ava';
import { drillCommand } from '../../src/cli/drill.js';
import { drills } from '../../src/drill/drills.js';
import type { Outcome } from '../../src/drill/outcome.js';
import { exitStatus, formatTable, reportJson, type DrillJson } from '../../src/drill/report.js';
import { loadDrillCa, runDrills, type DrillReport } from '../../src/drill/run.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';

let app: TestAppliance;
let report: DrillReport;
let anonymous: DrillReport;

test.before(async () => {
  app = await startTestAppliance();
  const { ca, caPem } = await loadDrillCa(join(app.dataDir, 'certs'));
  const target = { host: app.host, port: app.port, ca, serverCa: caPem, timeoutMs: 10_000 };
  report = await runDrills({ ...target, username: 'drill-client', password: 'drill-password' });
  anonymous = await runDrills({ ...target, only: ['valid', 'cn-mismatch', 'wrong-password'] });
});

test.after.always(async () => {
  await app.dispose();
});

function outcomeOf(r: DrillReport, name: string): Outcome {
  const result = r.results.find((candidate) => candidate.drill.name === name);
  if (!result) throw new Error(`no result for drill ${name}`);
  return result.outcome;
}

test('every drill runs once, in the standard order', (t) => {
  t.deepEqual(
    report.results.map((result) => result.drill.name),
    drills.map((drill) => drill.name),
  );
});

test('a valid certificate is accepted and Query lists the operations', (t) => {
  const outcome = outcomeOf(report, 'valid');
  t.is(outcome.kind, 'accepted');
  if (outcome.kind === 'accepted') t.true(outcome.operations > 0);
});

test('TLS 1.2 and TLS 1.3 are accepted, each in its own version', (t) => {
  t.like(outcomeOf(report, 'tls1.2'), { kind: 'accepted', protocol: 'TLSv1.2' });
  t.like(outcomeOf(report, 'tls1.3'), { kind: 'accepted', protocol: 'TLSv1.3' });
});

test('TLS 1.0 and 1.1 are refused in the handshake with a protocol_version alert, or skipped locally', (t) => {
  for (const name of ['tls1.0', 'tls1.1']) {
    const outcome = outcomeOf(report, name);
    if (outcome.kind === 'skipped') {
      t.regex(outcome.reason, /^local OpenSSL does not speak TLSv1(\.1)? /, name);
      continue;
    }
    t.like(
      outcome,
      { kind: 'tls-refused', phase: 'handshake', alert: { number: 70, name: 'protocol_version' } },
      name,
    );
    if (outcome.kind === 'tls-refused')
      t.is(outcome.error?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', name);
  }
});

test('every bad certificate is refused, in TLS or with Authentication Not Successful and a close', (t) => {
  for (const name of ['no-certificate', 'untrusted-ca', 'expired', 'not-yet-valid', 'no-client-auth']) {
    const result = report.results.find((candidate) => candidate.drill.name === name);
    t.is(result?.verdict, 'as-expected', name);
    const outcome = result?.outcome;
    // The listener names the refusal in KMIP since it verifies certificates itself; node:tls's own refusal
    // (rejectUnauthorized) would show as a TLS refusal or a close. Either is strict; an acceptance is not.
    if (outcome?.kind === 'kmip-refused') {
      t.like(outcome, { reason: 'AuthenticationNotSuccessful', closed: true }, name);
    } else {
      t.true(
        outcome?.kind === 'tls-refused' || outcome?.kind === 'closed',
        `${name}: ${outcome?.kind ?? '?'}`,
      );
    }
  }
});

test('the Credential drills run and are classified', (t) => {
  for (const name of ['cn-mismatch', 'wrong-password']) {
    const result = report.results.find((candidate) => candidate.drill.name === name);
    t.not(result?.outcome.kind, 'skipped', name);
    t.not(result?.verdict, 'skipped', name);
    t.not(result?.outcome.kind, 'client-error', name);
    t.not(result?.outcome.kind, 'timed-out', name);
  }
});

test('without a username the Credential drills are skipped with the reason', (t) => {
  t.is(outcomeOf(anonymous, 'valid').kind, 'accepted');
  for (const name of ['cn-mismatch', 'wrong-password']) {
    t.like(outcomeOf(anonymous, name), {
      kind: 'skipped',
      reason: 'needs the Credential of a valid client (--username, --password)',
    });
  }
  t.deepEqual([anonymous.asExpected, anonymous.notAsExpected, anonymous.skipped], [1, 0, 2]);
  t.is(exitStatus(anonymous), 0);
});

test('the counts add up and the table ends with them', (t) => {
  t.is(report.asExpected + report.notAsExpected + report.skipped, drills.length);
  const table = formatTable(report);
  for (const drill of drills) t.true(table.includes(`| ${drill.title} `), drill.title);
  t.is(
    table.trimEnd().split('\n').at(-1),
    `${report.asExpected} drills as expected, ${report.notAsExpected} not, ${report.skipped} skipped`,
  );
  t.is(exitStatus(report), report.notAsExpected > 0 ? 1 : 0);
  t.log(`\n${table}`);
});

test.serial('kmipd drill --json prints the report and exits as the drills went', async (t) => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  let code: number;
  try {
    code = await drillCommand.run([
      '--host',
      app.host,
      '--port',
      String(app.port),
      '--certs',
      join(app.dataDir, 'certs'),
      '--server-name',
      'localhost',
      '--only',
      'valid,expired,tls1.3',
      '--json',
    ]);
  } finally {
    process.stdout.write = write;
  }
  const json = JSON.parse(chunks.join('')) as DrillJson;
  t.is(code, 0);
  t.deepEqual(
    json.drills.map((drill) => [drill.name, drill.verdict]),
    [
      ['valid', 'as-expected'],
      ['expired', 'as-expected'],
      ['tls1.3', 'as-expected'],
    ],
  );
  t.is(json.target.serverName, 'localhost');
  t.deepEqual(Object.keys(reportJson(report)), Object.keys(json));
});

test('kmipd drill refuses a wrong command line with a usage error', async (t) => {
  await t.throwsAsync(drillCommand.run(['--host', app.host]), { name: 'UsageError', message: /--certs/ });
  await t.throwsAsync(drillCommand.run(['--certs', 'x', '--only', 'valid,bogus']), {
    name: 'UsageError',
    message: /unknown drill bogus/,
  });
  await t.throwsAsync(drillCommand.run(['--certs', 'x', '--timeout', '0']), {
    name: 'UsageError',
    message: /--timeout/,
  });
  await t.throwsAsync(drillCommand.run(['--certs', 'x', '--password', 'p']), {
    name: 'UsageError',
    message: /--password needs --username/,
  });
});
