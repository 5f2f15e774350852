/** Vector files that pass today, through the runner against a real appliance. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import {
  ConformanceClient,
  connectFor,
  HttpsConformanceClient,
  transportOf,
  type MessageEncoding,
} from '../../src/conformance/client.js';
import { formatReport } from '../../src/conformance/report.js';
import { messageToXml } from '../../src/kmip/text-messages.js';
import { runVectors } from '../../src/conformance/runner.js';
import { loadSkipList, SkipList } from '../../src/conformance/skip-list.js';
import { describeVector, findVectorFiles } from '../../src/conformance/vectors.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';

const vectorsDir = join(import.meta.dirname, '..', '..', '..', 'shared', 'kmip-vectors');
const passing = ['OMOS-M-1-14', 'SKFF-M-1-14', 'SKFF-M-2-14', 'SKFF-M-3-14', 'SKFF-M-4-14'].map((name) =>
  join(vectorsDir, 'profiles-v1.4', 'mandatory', `${name}.xml`),
);

test('file names give profile, version and skip-list key', (t) => {
  t.deepEqual(describeVector('/x/kmip-vectors/profiles-v2.1/mandatory/CS-BC-M-GCM-1-21.xml'), {
    path: '/x/kmip-vectors/profiles-v2.1/mandatory/CS-BC-M-GCM-1-21.xml',
    key: 'profiles-v2.1/mandatory/CS-BC-M-GCM-1-21.xml',
    profile: 'CS-BC',
    version: '2.1',
  });
  t.is(describeVector('/v/testcases-v1.4/TC-DERIVEKEY-1-12.xml').version, '1.2');
  t.is(describeVector('/v/testcases-v1.4/TC-DERIVEKEY-1-12.xml').profile, 'TC-DERIVEKEY');
});

test('the skip list gives one reason per entry and matches globs', async (t) => {
  const skipList = await loadSkipList();
  t.true(skipList.entries.every((entry) => entry.reason.length > 0));
  t.truthy(skipList.reasonFor('profiles-v2.1/mandatory/BL-M-9-21.xml'));
  t.truthy(skipList.reasonFor('profiles-v3.0/optional/AKLC-O-1-30.xml'));
  t.truthy(skipList.reasonFor('profiles-v1.4/mandatory/CS-BC-M-1-14.xml'));
  t.is(skipList.reasonFor('profiles-v2.1/mandatory/BL-M-1-21.xml'), undefined);
});

// SoftHSM2 takes one data directory per process: one appliance for the file, its tests in series.
let shared: TestAppliance | undefined;
test.before(async () => {
  shared = await startTestAppliance({ https: true });
});
test.after.always(async () => {
  await shared?.dispose();
});

async function sharedCredentials(): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  if (!shared) throw new Error('no appliance');
  return {
    ca: await readFile(shared.ca),
    cert: await readFile(shared.cert),
    key: await readFile(shared.key),
  };
}

async function connectShared(): Promise<ConformanceClient> {
  if (!shared) throw new Error('no appliance');
  return ConformanceClient.connect({ host: shared.host, port: shared.port }, await sharedCredentials());
}

function sharedHttps(): { host: string; port: number } {
  if (shared?.httpsPort === undefined) throw new Error('no appliance with HTTPS');
  return { host: shared.host, port: shared.httpsPort };
}

test.serial('vectors that pass today pass against the appliance', async (t) => {
  const outcomes = await runVectors(await findVectorFiles(passing), {
    connect: connectShared,
    skipList: await loadSkipList(),
  });
  const report = formatReport(outcomes);
  t.log(report);
  t.is(report.trimEnd().split('\n').at(-1), `${passing.length} passed, 0 failed, 0 skipped`);
});

test.serial('a failing vector fails with the first difference', async (t) => {
  // Expects a fixed ciphertext under a key the server creates at random, so no server passes it; without the
  // skip list (which names it for that reason) it must fail, not be skipped.
  const [outcome] = await runVectors(
    await findVectorFiles([join(vectorsDir, 'profiles-v1.4', 'mandatory', 'CS-BC-M-1-14.xml')]),
    {
      connect: connectShared,
      skipList: new SkipList([]),
    },
  );
  t.is(outcome?.verdict, 'failed');
  t.truthy(outcome?.difference?.path);
  // The server's whole answer to the request that differed (what --show-answers prints), not the expectation.
  const answer = outcome?.answer === undefined ? '' : messageToXml(outcome.answer);
  t.regex(answer, /^<ResponseMessage>/);
  t.regex(answer, /<Operation type="Enumeration" value="Encrypt"\/>/);
  t.notRegex(answer, /\$UNIQUE_IDENTIFIER/, 'no placeholder of the vector');
});

test.serial('a second multi-part operation in a file learns its own Correlation Value', async (t) => {
  // TC-STREAM-ENC-2 runs two multi-part Encrypts and names both Correlation Values $CORRELATION_VALUE: the second
  // must be learned anew at its Init Indicator, not compared with the first operation's.
  const outcomes = await runVectors(
    await findVectorFiles([join(vectorsDir, 'testcases-v1.4', 'TC-STREAM-ENC-2-14.xml')]),
    { connect: connectShared, skipList: new SkipList([]) },
  );
  t.is(outcomes[0]?.verdict, 'passed', JSON.stringify(outcomes[0]));
});

test('the message-encoding profiles go over HTTPS in the encoding each tests, the others as TTLV', (t) => {
  const of = (name: string): unknown => transportOf(describeVector(`/v/profiles-v2.1/mandatory/${name}`));
  t.deepEqual(of('MSGENC-HTTPS-M-1-21.xml'), { https: true, encoding: 'TTLV' });
  t.deepEqual(of('MSGENC-XML-M-1-21.xml'), { https: true, encoding: 'KMIP XML' });
  t.deepEqual(of('MSGENC-JSON-M-1-21.xml'), { https: true, encoding: 'KMIP JSON' });
  t.deepEqual(of('BL-M-1-21.xml'), { https: false });
});

for (const encoding of ['TTLV', 'KMIP XML', 'KMIP JSON'] as MessageEncoding[]) {
  test.serial(`vectors that pass today pass over HTTPS in ${encoding} too`, async (t) => {
    const credentials = await sharedCredentials();
    const outcomes = await runVectors(await findVectorFiles(passing), {
      connect: () => Promise.resolve(new HttpsConformanceClient(sharedHttps(), credentials, encoding)),
      skipList: await loadSkipList(),
    });
    const report = formatReport(outcomes);
    t.is(report.trimEnd().split('\n').at(-1), `${passing.length} passed, 0 failed, 0 skipped`, report);
  });
}

const msgenc = ['HTTPS', 'XML', 'JSON'].map((name) =>
  join(vectorsDir, 'profiles-v1.4', 'mandatory', `MSGENC-${name}-M-1-14.xml`),
);

test.serial('the MSGENC vectors run over HTTPS and their first exchange passes', async (t) => {
  const credentials = await sharedCredentials();
  if (!shared) throw new Error('no appliance');
  const target = { ttlv: { host: shared.host, port: shared.port }, https: sharedHttps() };
  const outcomes = await runVectors(await findVectorFiles(msgenc), {
    connect: (vector) => connectFor(vector, target, credentials),
    skipList: await loadSkipList(),
  });
  t.is(outcomes.length, 3);
  for (const outcome of outcomes) {
    // Message 1 asks for a response too large for its Maximum Response Size; what follows is the server's own
    // Query answer, which may differ from the reference server's.
    t.true(
      outcome.verdict === 'passed' || (outcome.verdict === 'failed' && (outcome.message ?? 0) > 1),
      `${outcome.vector.key}: ${outcome.verdict} at message ${String(outcome.message)} ${outcome.reason ?? ''}`,
    );
  }
});

test.serial('without an HTTPS port the MSGENC vectors are skipped, saying why', async (t) => {
  const credentials = await sharedCredentials();
  if (!shared) throw new Error('no appliance');
  const target = { ttlv: { host: shared.host, port: shared.port }, https: undefined };
  const outcomes = await runVectors(await findVectorFiles(msgenc.slice(0, 1)), {
    connect: (vector) => connectFor(vector, target, credentials),
    skipList: new SkipList([]),
  });
  t.is(outcomes[0]?.verdict, 'skipped');
  t.regex(outcomes[0]?.reason ?? '', /KMIP over HTTPS, and no HTTPS port was given \(--https-port\)/);
});
