/**
 * The comparator's rules for what describes the server or what it generated (src/conformance/compare.ts): a Query
 * answer's lists, vendor and information; the Key Material, Digest Value and Random Number Generator of objects the
 * server generated; the literal times of vectors recorded without `$NOW`. Each is checked both ways.
 */
import test from 'ava';
import type { TtlvItem } from '../../src/ttlv/types.js';
import { compare, payload, response, sentAt, timeStamp, uid } from '../support/compare-messages.js';

const op = (name: string): string => `<Operation type="Enumeration" value="${name}"/>`;
const objectType = (name: string): string => `<ObjectType type="Enumeration" value="${name}"/>`;
const vendor = (name: string): string => `<VendorIdentification type="TextString" value="${name}"/>`;
const key = (hex: string): string =>
  `<SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/><KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue></KeyBlock></SymmetricKey>`;

const referenceQuery = response(
  'Query',
  payload(
    `${op('Query')}${op('Locate')}${op('Poll')}${op('Create')}${objectType('SymmetricKey')}${vendor('server-vendor.com')}`,
  ),
);

test('a Query answer lists what this server offers, in its order, under its own name', (t) => {
  const ours = response(
    'Query',
    payload(`${op('Create')}${op('Locate')}${op('Query')}${objectType('Certificate')}${vendor('kmipd')}`),
  );
  t.is(compare(referenceQuery, ours, { fileOperations: new Set(['Query', 'Create', 'Locate']) }), undefined);
});

test('a Query answer must list the operations the file uses that the reference lists', (t) => {
  const ours = response(
    'Query',
    payload(`${op('Query')}${op('Locate')}${objectType('Certificate')}${vendor('kmipd')}`),
  );
  const difference = compare(referenceQuery, ours, { fileOperations: new Set(['Query', 'Create']) });
  t.regex(difference?.expected ?? '', /^Create among the operations/);
  // An operation the file uses but the reference did not list is not asked of this server either.
  t.is(compare(referenceQuery, ours, { fileOperations: new Set(['Query', 'Locate', 'Certify']) }), undefined);
});

test('a Query answer without operations, object types or vendor is a difference; other fields still compare', (t) => {
  t.truthy(
    compare(referenceQuery, response('Query', payload(`${objectType('Certificate')}${vendor('kmipd')}`))),
  );
  t.truthy(compare(referenceQuery, response('Query', payload(`${op('Query')}${vendor('kmipd')}`))));
  t.truthy(compare(referenceQuery, response('Query', payload(`${op('Query')}${objectType('Certificate')}`))));
  const locate = response('Locate', payload(uid('a')));
  t.truthy(compare(locate, response('Locate', payload(uid('b')))), 'outside Query, values compare as ever');
});

test('the Key Material and Digest of a key the server generated compare by length', (t) => {
  const generated = new Set(['k-1']);
  const expected = response(
    'Get',
    payload(`${objectType('SymmetricKey')}${uid('k-1')}${key('00112233445566778899aabbccddeeff')}`),
  );
  const other = response(
    'Get',
    payload(`${objectType('SymmetricKey')}${uid('k-1')}${key('ffeeddccbbaa99887766554433221100')}`),
  );
  t.is(compare(expected, other, { generated }), undefined);
  const shorter = response(
    'Get',
    payload(`${objectType('SymmetricKey')}${uid('k-1')}${key('ffeeddccbbaa9988')}`),
  );
  t.truthy(compare(expected, shorter, { generated }), 'another length is another key');
  const registered = response(
    'Get',
    payload(`${objectType('SymmetricKey')}${uid('k-2')}${key('ffeeddccbbaa99887766554433221100')}`),
  );
  const expectedRegistered = response(
    'Get',
    payload(`${objectType('SymmetricKey')}${uid('k-2')}${key('00112233445566778899aabbccddeeff')}`),
  );
  t.truthy(
    compare(expectedRegistered, registered, { generated }),
    'a key the client registered compares byte for byte',
  );
});

test('the answer to Create marks the object as generated', (t) => {
  const generated = new Set<string>();
  const created = response('Create', payload(`${objectType('SymmetricKey')}${uid('$UNIQUE_IDENTIFIER_0')}`));
  t.is(
    compare(created, response('Create', payload(`${objectType('SymmetricKey')}${uid('new-1')}`)), {
      generated,
    }),
    undefined,
  );
  t.true(generated.has('new-1'));
});

test('recorded literal times bind to times of this run, one each, within the window', (t) => {
  const recorded = (time: string): string =>
    response(
      'GetAttributes',
      payload(
        `${uid('x')}<Attribute><AttributeName type="TextString" value="Initial Date"/><AttributeValue type="DateTime" value="${time}"/></Attribute>`,
      ),
      { header: timeStamp('2012-04-27T08:12:25+00:00') },
    );
  const at = (seconds: bigint): string =>
    new Date(Number(seconds) * 1000).toISOString().replace('.000Z', '+00:00');
  const bindings = new Map<string, TtlvItem>();
  t.is(compare(recorded('2013-01-10T23:33:21+00:00'), recorded(at(sentAt - 5n)), { bindings }), undefined);
  t.is(
    compare(recorded('2013-01-10T23:33:21+00:00'), recorded(at(sentAt - 5n)), { bindings }),
    undefined,
    'same again',
  );
  t.is(
    compare(recorded('2013-01-10T23:33:21+00:00'), recorded(at(sentAt - 4n)), { bindings }),
    undefined,
    'a second later: the run crossed a second boundary the recording did not',
  );
  t.truthy(
    compare(recorded('2013-01-10T23:33:21+00:00'), recorded(at(sentAt - 9n)), { bindings }),
    'another time for the same literal',
  );
  t.truthy(
    compare(recorded('2013-01-11T00:00:00+00:00'), recorded(at(sentAt - 3600n))),
    'a time far from now',
  );
});
