import test from 'ava';
import {
  placeholderNameOfTag,
  readRequest,
  recordEchoes,
  UnknownPlaceholderError,
} from '../../src/conformance/placeholders.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/types.js';
import { xmlElementToTtlv } from '../../src/ttlv/xml.js';
import {
  compare,
  element,
  names,
  payload,
  response as createResponse,
  sentAt,
  timeStamp,
  uid,
} from '../support/compare-messages.js';

/** A 1.4 Create response with this payload; `header` stands before the Batch Count. */
function response(fields: string, header = timeStamp('$NOW'), status = 'Success'): string {
  return createResponse('Create', payload(fields), { header, status });
}

const iso = (seconds: bigint): string => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

test('equal messages agree', (t) => {
  t.is(compare(response(uid('abc')), response(uid('abc'))), undefined);
});

test('a differing value is reported with its tag path and both values', (t) => {
  const difference = compare(response('', undefined, 'Success'), response('', undefined, 'OperationFailed'));
  t.deepEqual(difference, {
    path: 'ResponseMessage/BatchItem/ResultStatus',
    expected: 'Success',
    actual: 'OperationFailed',
  });
});

test('a placeholder binds the actual value, and a later use must match it', (t) => {
  const bindings = new Map<string, TtlvItem>();
  t.is(compare(response(uid('$UNIQUE_IDENTIFIER_0')), response(uid('k-1')), { bindings }), undefined);
  t.deepEqual(bindings.get('$UNIQUE_IDENTIFIER_0'), {
    tag: names.tagByName('UniqueIdentifier') ?? 0,
    type: ItemType.TextString,
    value: 'k-1',
  });
  t.is(compare(response(uid('$UNIQUE_IDENTIFIER_0')), response(uid('k-1')), { bindings }), undefined);
  const difference = compare(response(uid('$UNIQUE_IDENTIFIER_0')), response(uid('k-2')), { bindings });
  t.is(difference?.path, 'ResponseMessage/BatchItem/ResponsePayload/UniqueIdentifier');
  t.is(difference?.expected, '$UNIQUE_IDENTIFIER_0 = k-1');
  // A new numbered placeholder must be a new value.
  t.truthy(compare(response(uid('$UNIQUE_IDENTIFIER_1')), response(uid('k-1')), { bindings }));
});

test('a failed message binds nothing', (t) => {
  const bindings = new Map<string, TtlvItem>();
  t.truthy(
    compare(response(uid('$UNIQUE_IDENTIFIER_0')), response(uid('k-1'), undefined, 'OperationFailed'), {
      bindings,
    }),
  );
  t.is(bindings.size, 0);
});

test('Byte String placeholders bind too', (t) => {
  const iv = (value: string): string => `<IVCounterNonce type="ByteString" value="${value}"/>`;
  const bindings = new Map<string, TtlvItem>();
  t.is(compare(response(iv('$IV_COUNTER_NONCE')), response(iv('00112233')), { bindings }), undefined);
  t.is(
    Buffer.from((bindings.get('$IV_COUNTER_NONCE')?.value ?? new Uint8Array()) as Uint8Array).toString('hex'),
    '00112233',
  );
});

test('$NOW±N matches within the window and not outside it', (t) => {
  const date = (value: string): string => `<InitialDate type="DateTime" value="${value}"/>`;
  t.is(compare(response(date('$NOW-3600')), response(date(iso(sentAt - 3600n + 100n)))), undefined);
  const late = compare(response(date('$NOW-3600')), response(date(iso(sentAt - 3600n + 121n))));
  t.is(late?.path, 'ResponseMessage/BatchItem/ResponsePayload/InitialDate');
  t.truthy(compare(response(date('$NOW')), response(date(iso(sentAt - 500n)))));
});

test('the header Time Stamp value and Server Correlation Value are ignored', (t) => {
  const expected = response(
    '',
    '<TimeStamp type="DateTime" value="2010-01-01T00:00:00Z"/><ServerCorrelationValue type="TextString" value="x"/>',
  );
  t.is(compare(expected, response('', `<TimeStamp type="DateTime" value="${iso(sentAt)}"/>`)), undefined);
  t.is(
    compare(
      response(''),
      response(
        '',
        `<TimeStamp type="DateTime" value="${iso(sentAt)}"/><ServerCorrelationValue type="TextString" value="y"/>`,
      ),
    ),
    undefined,
  );
});

test('a missing or extra item is a difference', (t) => {
  const two = uid('a') + uid('b');
  t.deepEqual(compare(response(two), response(uid('a'))), {
    path: 'ResponseMessage/BatchItem/ResponsePayload/UniqueIdentifier[1]',
    expected: 'b',
    actual: 'nothing',
  });
  t.is(compare(response(uid('a')), response(two))?.actual, 'an extra UniqueIdentifier');
  // The header's Batch Count is compared like any other value.
  const header = (count: number): string =>
    response('').replace(
      '<BatchCount type="Integer" value="1"/>',
      `<BatchCount type="Integer" value="${count}"/>`,
    );
  t.is(compare(header(2), header(1))?.path, 'ResponseMessage/ResponseHeader/BatchCount');
});

test('requests get learned values and $NOW; unknown placeholders are named', (t) => {
  const request = `<RequestMessage><RequestHeader>
    <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>
    <BatchCount type="Integer" value="1"/></RequestHeader>
    <BatchItem><Operation type="Enumeration" value="Encrypt"/><RequestPayload>
    ${uid('$UNIQUE_IDENTIFIER_0')}<IVCounterNonce type="ByteString" value="$IV_COUNTER_NONCE"/>
    <ActivationDate type="DateTime" value="$NOW-60"/></RequestPayload></BatchItem></RequestMessage>`;
  const learned = new Map<string, TtlvItem>([
    ['$UNIQUE_IDENTIFIER_0', { tag: 0x420094, type: ItemType.TextString, value: 'k-9' }],
    ['$IV_COUNTER_NONCE', { tag: 0x42003d, type: ItemType.ByteString, value: new Uint8Array([1, 2]) }],
  ]);
  const item = readRequest(element(request), '1.4', sentAt, learned);
  const expected = xmlElementToTtlv(
    element(
      request
        .replace('$UNIQUE_IDENTIFIER_0', 'k-9')
        .replace('$IV_COUNTER_NONCE', '0102')
        .replace('$NOW-60', iso(sentAt - 60n)),
    ),
    names,
  );
  t.deepEqual(item, expected);
  const error = t.throws(() => readRequest(element(request), '1.4', sentAt, new Map()), {
    instanceOf: UnknownPlaceholderError,
  });
  t.true(error.message.includes('$IV_COUNTER_NONCE') || error.message.includes('$UNIQUE_IDENTIFIER_0'));
});

test('placeholder names follow the tag names the vectors use', (t) => {
  t.is(placeholderNameOfTag('MACData'), '$MAC_DATA');
  t.is(placeholderNameOfTag('IVCounterNonce'), '$IV_COUNTER_NONCE');
  t.is(placeholderNameOfTag('UniqueIdentifier'), '$UNIQUE_IDENTIFIER');
  t.is(placeholderNameOfTag('Data'), '$DATA');
});

test('a placeholder no response bound takes what the server last answered in the field of that name', (t) => {
  // CS-AC-M-6: MAC's response holds a literal MAC Data, and MAC Verify then sends $MAC_DATA.
  const macAnswer = xmlElementToTtlv(
    element(
      createResponse('MAC', payload(`${uid('k-1')}<MACData type="ByteString" value="c911e781"/>`), {
        header: timeStamp('2026-11-24T01:00:00Z'),
      }),
    ),
    names,
  );
  const echoes = new Map<string, TtlvItem>();
  recordEchoes(macAnswer, names, echoes);
  // Only the payload's strings are recorded (nothing from the header, no Operation or Result Status).
  t.deepEqual([...echoes.keys()].sort(), ['$MAC_DATA', '$UNIQUE_IDENTIFIER']);

  const request = `<RequestMessage><RequestHeader>
    <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>
    <BatchCount type="Integer" value="1"/></RequestHeader>
    <BatchItem><Operation type="Enumeration" value="MACVerify"/><RequestPayload>
    ${uid('$UNIQUE_IDENTIFIER_0')}<Data type="ByteString" value="01020304"/>
    <MACData type="ByteString" value="$MAC_DATA"/></RequestPayload></BatchItem></RequestMessage>`;
  const learned = new Map<string, TtlvItem>([
    ['$UNIQUE_IDENTIFIER_0', { tag: 0x420094, type: ItemType.TextString, value: 'k-1' }],
  ]);
  const item = readRequest(element(request), '1.4', sentAt, learned, echoes);
  t.deepEqual(
    item,
    xmlElementToTtlv(
      element(request.replace('$UNIQUE_IDENTIFIER_0', 'k-1').replace('$MAC_DATA', 'c911e781')),
      names,
    ),
  );
  // Without the echo the placeholder is still unknown, and a learned value is preferred over an echo.
  t.throws(() => readRequest(element(request), '1.4', sentAt, learned), {
    instanceOf: UnknownPlaceholderError,
  });
  const bound = new Map([
    ...learned,
    [
      '$MAC_DATA',
      { tag: names.tagByName('MACData') ?? 0, type: ItemType.ByteString, value: new Uint8Array([9]) },
    ] as const,
  ]);
  const preferred = readRequest(element(request), '1.4', sentAt, bound, echoes);
  t.deepEqual(
    preferred,
    xmlElementToTtlv(
      element(request.replace('$UNIQUE_IDENTIFIER_0', 'k-1').replace('$MAC_DATA', '09')),
      names,
    ),
  );
});
