/**
 * The comparator's tolerances for values a server words or chooses itself (src/conformance/compare.ts): Result
 * Message text (KMIP 1.4 §6.17), RNG Retrieve Data (§4.35) and an IV the server chose for Encrypt, with the Data
 * encrypted under it (§4.29 Table 230). Each is checked both ways: what it forgives, and the neighbouring
 * differences it must still report.
 */
import test from 'ava';
import { readRequest } from '../../src/conformance/placeholders.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/types.js';
import { xmlElementToTtlv } from '../../src/ttlv/xml.js';
import { compare, element, names, payload, response, sentAt, uid } from '../support/compare-messages.js';

const failed = (reason: string, message?: string): string =>
  `<ResultReason type="Enumeration" value="${reason}"/>` +
  (message === undefined ? '' : `<ResultMessage type="TextString" value="${message}"/>`);
const bytes = (tag: string, hex: string): string => `<${tag} type="ByteString" value="${hex}"/>`;

const hexOf = (item: TtlvItem | undefined): string | undefined =>
  item?.type === ItemType.ByteString ? Buffer.from(item.value).toString('hex') : undefined;

test('a Result Message is compared by presence: other words pass', (t) => {
  const expected = response('Encrypt', failed('PermissionDenied', 'DENIED'), { status: 'OperationFailed' });
  const actual = response(
    'Encrypt',
    failed('PermissionDenied', 'Encrypt: object k-1 is past its Protect Stop Date'),
    { status: 'OperationFailed' },
  );
  t.is(compare(expected, actual), undefined);
  t.is(
    compare(expected, response('Encrypt', failed('PermissionDenied', ''), { status: 'OperationFailed' })),
    undefined,
  );
});

test('a missing Result Message is a difference', (t) => {
  const expected = response('Encrypt', failed('PermissionDenied', 'DENIED'), { status: 'OperationFailed' });
  t.deepEqual(
    compare(expected, response('Encrypt', failed('PermissionDenied'), { status: 'OperationFailed' })),
    {
      path: 'ResponseMessage/BatchItem/ResultMessage',
      expected: 'DENIED',
      actual: 'nothing',
    },
  );
});

test('beside a Result Message of other words, the Result Reason is still compared', (t) => {
  const expected = response('Encrypt', failed('PermissionDenied', 'DENIED'), { status: 'OperationFailed' });
  const actual = response('Encrypt', failed('IllegalOperation', 'not Active'), { status: 'OperationFailed' });
  t.deepEqual(compare(expected, actual), {
    path: 'ResponseMessage/BatchItem/ResultReason',
    expected: 'PermissionDenied',
    actual: 'IllegalOperation',
  });
});

test('RNG Retrieve Data of another value and the same length passes; of another length fails', (t) => {
  const expected = response('RNGRetrieve', payload(bytes('Data', '00112233445566778899aabbccddeeff')));
  const bindings = new Map<string, TtlvItem>();
  t.is(
    compare(expected, response('RNGRetrieve', payload(bytes('Data', 'f'.repeat(32)))), { bindings }),
    undefined,
  );
  t.is(bindings.size, 0, 'random data teaches nothing');
  const shorter = compare(expected, response('RNGRetrieve', payload(bytes('Data', 'f'.repeat(30)))));
  t.is(shorter?.path, 'ResponseMessage/BatchItem/ResponsePayload/Data');
  const longer = compare(expected, response('RNGRetrieve', payload(bytes('Data', 'f'.repeat(34)))));
  t.is(longer?.path, 'ResponseMessage/BatchItem/ResponsePayload/Data');
});

test('Data of other operations is compared by value', (t) => {
  const value = '0388dace60b6a392f328c2b971b2fe78';
  const other = '0388dace60b6a392f328c2b971b2fe79';
  for (const operation of ['Decrypt', 'Hash', 'Encrypt']) {
    const difference = compare(
      response(operation, payload(uid('k-1') + bytes('Data', value))),
      response(operation, payload(uid('k-1') + bytes('Data', other))),
    );
    t.deepEqual(
      difference,
      { path: 'ResponseMessage/BatchItem/ResponsePayload/Data', expected: value, actual: other },
      operation,
    );
  }
  // An Encrypt that returns no IV used the client's: its Data is deterministic, and a GCM tag is compared as well.
  const tag = 'ab6e47d42cec13bdf53a67b21257bddf';
  const withTag = compare(
    response(
      'Encrypt',
      payload(uid('k-1') + bytes('Data', value) + bytes('AuthenticatedEncryptionTag', tag)),
    ),
    response(
      'Encrypt',
      payload(uid('k-1') + bytes('Data', value) + bytes('AuthenticatedEncryptionTag', other)),
    ),
  );
  t.is(withTag?.path, 'ResponseMessage/BatchItem/ResponsePayload/AuthenticatedEncryptionTag');
});

test('an Encrypt response with a server-chosen IV binds $IV_COUNTER_NONCE and $DATA_0 for later requests', (t) => {
  // As CS-BC-M-13-14: the vector writes the reference server's IV and ciphertext.
  const expected = response(
    'Encrypt',
    payload(
      uid('$UNIQUE_IDENTIFIER_0') +
        bytes('Data', 'e768203ba72b6e157daaad34b1e791d8e88457dc147942f01bfaff7b28a3cdde') +
        bytes('IVCounterNonce', 'ff020304050607080910111213141516'),
    ),
  );
  const data = '1'.repeat(64);
  const iv = '2'.repeat(32);
  const bindings = new Map<string, TtlvItem>();
  const actual = response('Encrypt', payload(uid('k-7') + bytes('Data', data) + bytes('IVCounterNonce', iv)));
  t.is(compare(expected, actual, { bindings }), undefined);
  t.is(hexOf(bindings.get('$IV_COUNTER_NONCE')), iv);
  t.is(hexOf(bindings.get('$DATA_0')), data);

  // The Decrypt request that follows gets the server's values, not the vector's.
  const request = `<RequestMessage><RequestHeader>
    <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>
    <BatchCount type="Integer" value="1"/></RequestHeader>
    <BatchItem><Operation type="Enumeration" value="Decrypt"/><RequestPayload>
    ${uid('$UNIQUE_IDENTIFIER_0')}${bytes('Data', '$DATA_0')}${bytes('IVCounterNonce', '$IV_COUNTER_NONCE')}
    </RequestPayload></BatchItem></RequestMessage>`;
  const substituted = readRequest(element(request), '1.4', sentAt, bindings);
  const plain = xmlElementToTtlv(
    element(
      request
        .replace('$UNIQUE_IDENTIFIER_0', 'k-7')
        .replace('$DATA_0', data)
        .replace('$IV_COUNTER_NONCE', iv),
    ),
    names,
  );
  t.deepEqual(substituted, plain);

  // A second such Encrypt in the same file binds the next Data and the new IV.
  const data2 = '3'.repeat(64);
  const iv2 = '4'.repeat(32);
  const again = response(
    'Encrypt',
    payload(uid('k-7') + bytes('Data', data2) + bytes('IVCounterNonce', iv2)),
  );
  t.is(compare(expected, again, { bindings }), undefined);
  t.is(hexOf(bindings.get('$DATA_0')), data, 'the first stays');
  t.is(hexOf(bindings.get('$DATA_1')), data2);
  t.is(hexOf(bindings.get('$IV_COUNTER_NONCE')), iv2);
});

test('a server-chosen IV or its Data of another length is a difference, and binds nothing', (t) => {
  const expected = response(
    'Encrypt',
    payload(uid('k-1') + bytes('Data', 'aa'.repeat(32)) + bytes('IVCounterNonce', 'bb'.repeat(16))),
  );
  const bindings = new Map<string, TtlvItem>();
  const shortIv = compare(
    expected,
    response(
      'Encrypt',
      payload(uid('k-1') + bytes('Data', 'cc'.repeat(32)) + bytes('IVCounterNonce', 'dd'.repeat(12))),
    ),
    { bindings },
  );
  t.is(shortIv?.path, 'ResponseMessage/BatchItem/ResponsePayload/IVCounterNonce');
  const longData = compare(
    expected,
    response(
      'Encrypt',
      payload(uid('k-1') + bytes('Data', 'cc'.repeat(48)) + bytes('IVCounterNonce', 'dd'.repeat(16))),
    ),
    { bindings },
  );
  t.is(longData?.path, 'ResponseMessage/BatchItem/ResponsePayload/Data');
  // Lengths that agree, in a message that differs elsewhere: nothing learned from it.
  const otherKey = compare(
    expected,
    response(
      'Encrypt',
      payload(uid('k-2') + bytes('Data', 'cc'.repeat(32)) + bytes('IVCounterNonce', 'dd'.repeat(16))),
    ),
    { bindings },
  );
  t.is(otherKey?.path, 'ResponseMessage/BatchItem/ResponsePayload/UniqueIdentifier');
  t.is(bindings.size, 0);
});

test('an Encrypt that should have returned an IV and did not is a difference', (t) => {
  const expected = response(
    'Encrypt',
    payload(uid('k-1') + bytes('Data', 'aa'.repeat(32)) + bytes('IVCounterNonce', 'bb'.repeat(16))),
  );
  const difference = compare(
    expected,
    response('Encrypt', payload(uid('k-1') + bytes('Data', 'cc'.repeat(32)))),
  );
  t.truthy(difference);
  // And one that returns an IV where the vector expects none gives its Data no tolerance.
  const plainExpected = response('Encrypt', payload(uid('k-1') + bytes('Data', 'aa'.repeat(32))));
  const extra = compare(
    plainExpected,
    response(
      'Encrypt',
      payload(uid('k-1') + bytes('Data', 'aa'.repeat(32)) + bytes('IVCounterNonce', 'bb'.repeat(16))),
    ),
  );
  t.is(extra?.actual, 'an extra IVCounterNonce');
});
