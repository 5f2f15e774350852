/** The drill list, the verdicts, the request the drills send and the reading of answers, without a network. */
import test from 'ava';
import { messageToXml } from '../../src/kmip/text-messages.js';
import { alertOf } from '../../src/drill/connect.js';
import { drills, selectDrills, type Expectation } from '../../src/drill/drills.js';
import { queryRequest, readQueryAnswer } from '../../src/drill/kmip.js';
import { verdictOf, type Outcome } from '../../src/drill/outcome.js';
import { describeOutcome } from '../../src/drill/report.js';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { ttlv } from '../../src/ttlv/types.js';
import { tag } from '../../src/kmip/vocabulary.js';
import { queryResponse } from './support.js';

test('the standard drills, in order, with unique names', (t) => {
  t.deepEqual(
    drills.map((drill) => drill.name),
    [
      'valid',
      'no-certificate',
      'untrusted-ca',
      'expired',
      'not-yet-valid',
      'no-client-auth',
      'cn-mismatch',
      'wrong-password',
      'tls1.0',
      'tls1.1',
      'tls1.2',
      'tls1.3',
    ],
  );
  t.deepEqual(
    drills.map((drill) => drill.expect),
    [
      'accepted',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused',
      'refused-authentication',
      'refused-in-handshake',
      'refused-in-handshake',
      'accepted',
      'accepted',
    ],
  );
  t.deepEqual(
    drills.filter((drill) => drill.needsUsername).map((drill) => drill.name),
    ['cn-mismatch', 'wrong-password'],
  );
  t.regex(drills.find((drill) => drill.name === 'cn-mismatch')?.strict ?? '', /session-and-username/);
});

test('--only keeps the standard order and refuses an unknown name', (t) => {
  t.deepEqual(
    selectDrills(['tls1.3', 'valid']).map((drill) => drill.name),
    ['valid', 'tls1.3'],
  );
  t.is(selectDrills(undefined), drills);
  t.throws(() => selectDrills(['valid', 'tls1.4']), {
    instanceOf: RangeError,
    message: /unknown drill tls1\.4/,
  });
});

const outcomes = {
  accepted: { kind: 'accepted', protocol: 'TLSv1.3', operations: 3 },
  authClosed: {
    kind: 'kmip-refused',
    protocol: 'TLSv1.3',
    status: 'OperationFailed',
    reason: 'AuthenticationNotSuccessful',
    message: 'no',
    closed: true,
  },
  authOpen: {
    kind: 'kmip-refused',
    protocol: 'TLSv1.3',
    status: 'OperationFailed',
    reason: 'AuthenticationNotSuccessful',
    message: 'no',
    closed: false,
  },
  permissionClosed: {
    kind: 'kmip-refused',
    protocol: 'TLSv1.3',
    status: 'OperationFailed',
    reason: 'PermissionDenied',
    message: 'no',
    closed: true,
  },
  tlsHandshake: {
    kind: 'tls-refused',
    phase: 'handshake',
    alert: { number: 48, name: 'unknown_ca' },
    error: undefined,
    protocol: undefined,
  },
  tlsAfter: {
    kind: 'tls-refused',
    phase: 'after-handshake',
    alert: { number: 116, name: 'certificate_required' },
    error: undefined,
    protocol: 'TLSv1.3',
  },
  closed: { kind: 'closed', protocol: 'TLSv1.3', error: undefined },
  timedOut: { kind: 'timed-out', phase: 'response', ms: 10 },
  bad: { kind: 'bad-response', protocol: 'TLSv1.3', error: 'x' },
  clientError: { kind: 'client-error', what: 'x', error: { code: 'ECONNREFUSED', message: 'x' } },
} satisfies Record<string, Outcome>;
type OutcomeName = keyof typeof outcomes;

/** Which outcomes meet each expectation; every other outcome must not. */
const meeting: Record<Expectation, OutcomeName[]> = {
  accepted: ['accepted'],
  refused: ['authClosed', 'tlsHandshake', 'tlsAfter', 'closed'],
  'refused-in-handshake': ['tlsHandshake'],
  'refused-authentication': ['authClosed', 'authOpen'],
};

for (const [expect, met] of Object.entries(meeting) as [Expectation, OutcomeName[]][]) {
  test(`verdict for the expectation ${expect}`, (t) => {
    for (const [name, outcome] of Object.entries(outcomes) as [OutcomeName, Outcome][]) {
      t.is(verdictOf(expect, outcome), met.includes(name) ? 'as-expected' : 'not-as-expected', name);
    }
    t.is(verdictOf(expect, { kind: 'skipped', reason: 'r' }), 'skipped');
  });
}

test('the Query request carries the Credential only when given, in KMIP 1.2', (t) => {
  const bare = messageToXml(decodeTtlv(queryRequest()));
  t.regex(bare, /<ProtocolVersionMinor type="Integer" value="2"\/>/);
  t.regex(bare, /<Operation type="Enumeration" value="Query"\/>/);
  t.regex(bare, /<QueryFunction type="Enumeration" value="QueryOperations"\/>/);
  t.notRegex(bare, /Authentication/);

  const withPassword = messageToXml(decodeTtlv(queryRequest({ username: 'a<b', password: 'p' })));
  t.regex(
    withPassword,
    /<Authentication>\s*<Credential>\s*<CredentialType type="Enumeration" value="UsernameAndPassword"\/>\s*<CredentialValue>\s*<Username type="TextString" value="a&lt;b"\/>\s*<Password type="TextString" value="p"\/>\s*<\/CredentialValue>/,
  );
  // The header's order (KMIP 1.2 §7.2): Protocol Version, Authentication, Batch Count.
  t.true(withPassword.indexOf('</ProtocolVersion>') < withPassword.indexOf('<Authentication>'));
  t.true(withPassword.indexOf('</Authentication>') < withPassword.indexOf('<BatchCount'));

  const usernameOnly = messageToXml(decodeTtlv(queryRequest({ username: 'a' })));
  t.regex(usernameOnly, /<Username type="TextString" value="a"\/>/);
  t.notRegex(usernameOnly, /<Password/);
});

test('answers are read from the first batch item', (t) => {
  t.deepEqual(readQueryAnswer(queryResponse('success')), {
    status: 'Success',
    success: true,
    reason: undefined,
    message: undefined,
    operations: 3,
  });
  t.deepEqual(readQueryAnswer(queryResponse({ reason: 'PermissionDenied', message: 'not you' })), {
    status: 'OperationFailed',
    success: false,
    reason: 'PermissionDenied',
    message: 'not you',
    operations: 0,
  });
  const notAResponse = encodeTtlv(ttlv.structure(tag('RequestMessage'), []));
  t.throws(() => readQueryAnswer(notAResponse), { message: 'the answer is not a Response Message' });
  const noItem = encodeTtlv(ttlv.structure(tag('ResponseMessage'), []));
  t.throws(() => readQueryAnswer(noItem), { message: 'the Response Message has no Batch Item' });
});

test('alerts are read from the OpenSSL message', (t) => {
  t.deepEqual(alertOf(new Error('...:ssl3_read_bytes:tlsv1 alert unknown ca:...:SSL alert number 48\n')), {
    number: 48,
    name: 'unknown_ca',
  });
  t.deepEqual(alertOf(new Error('SSL alert number 200')), { number: 200, name: 'unknown alert' });
  t.is(alertOf(new Error('read ECONNRESET')), undefined);
});

test('each outcome reads as the issue asks', (t) => {
  t.is(describeOutcome(outcomes.accepted).did, 'accepted (Query succeeded)');
  t.is(
    describeOutcome(outcomes.authClosed).did,
    'refused with KMIP Result Reason AuthenticationNotSuccessful: no, then closed the connection',
  );
  t.is(describeOutcome(outcomes.tlsHandshake).did, 'refused in the TLS handshake: alert 48 unknown_ca');
  t.regex(
    describeOutcome(outcomes.tlsAfter).did,
    /^refused in the TLS handshake: alert 116 certificate_required \(after/,
  );
  t.is(
    describeOutcome(outcomes.closed).did,
    'connection closed after the handshake without a response (TLSv1.3)',
  );
  t.is(describeOutcome(outcomes.timedOut).did, 'timed out waiting for the KMIP response');
  t.is(describeOutcome({ kind: 'skipped', reason: 'why' }).did, 'skipped: why');
});
