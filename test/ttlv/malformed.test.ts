/**
 * The numbered catalogue of malformed TTLV (after Cosmian's W1..W25 in ttlv/tests/wire_edge_cases.rs). Each case
 * names the rule it breaks (KMIP 1.4 §9.1.1 / KMIP 2.1 §10.1), the input in the spec's annotated hex, and the
 * TtlvError the strict decoder must throw: its code, the byte offset where one is meaningful, and the tag path from
 * the root to the item at fault. Numbers are stable: add new cases at the end, never renumber.
 *
 * Offsets follow one convention: a bad tag at the item's first byte, a bad type at its type byte, a bad or
 * overrunning length at its length field, bad padding at the first non-zero padding byte, a bad value (Boolean,
 * UTF-8) at the value's first byte, trailing bytes at the first byte after the top-level item.
 */
import test from 'ava';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { TtlvError, type TtlvErrorCode } from '../../src/ttlv/errors.js';
import { defaultDecodeLimits, type DecodeLimits } from '../../src/ttlv/limits.js';
import type { TtlvItem } from '../../src/ttlv/types.js';
import { build as b, concat, header } from '../support/ttlv-builder.js';
import { fromJson, type JsonItem } from '../support/tree-json.js';
import { readAnnotatedHex } from '../support/vectors.js';

interface Case {
  readonly id: string;
  readonly name: string;
  readonly input: string | Uint8Array;
  readonly code: TtlvErrorCode;
  readonly offset?: number;
  readonly path: readonly number[];
  readonly limits?: Partial<DecodeLimits>;
}

const X = 0x420020;
const A = 0x420004;
const B = 0x420005;

/** `depth` Structures nested one in the other (tags 0x420100 + level), the innermost empty. */
function nested(depth: number): Uint8Array {
  let inner: Uint8Array = new Uint8Array(0);
  for (let level = depth - 1; level >= 0; level--)
    inner = concat(header(0x420100 + level, 0x01, inner.length), inner);
  return inner;
}
const nestedPath = (depth: number): number[] => Array.from({ length: depth }, (_, level) => 0x420100 + level);

const cases: readonly Case[] = [
  // Input too short
  { id: 'W1', name: 'empty input', input: '', code: 'truncated', offset: 0, path: [] },
  {
    id: 'W2',
    name: 'truncated header (6 of 8 bytes)',
    input: '42 00 20 | 02 | 00 00',
    code: 'truncated',
    offset: 0,
    path: [],
  },
  {
    id: 'W3',
    name: 'truncated value: Integer with 2 of its 4 value bytes',
    input: '42 00 20 | 02 | 00 00 00 04 | 00 00',
    code: 'truncated',
    offset: 4,
    path: [X],
  },
  {
    id: 'W4',
    name: 'truncated padding: Integer value present, its 4 padding bytes missing',
    input: '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08',
    code: 'truncated',
    offset: 4,
    path: [X],
  },
  {
    id: 'W5',
    name: 'truncated padding: Text String "abc" with 2 of its 5 padding bytes',
    input: '42 00 20 | 07 | 00 00 00 03 | 61 62 63 00 00',
    code: 'truncated',
    offset: 4,
    path: [X],
  },
  {
    id: 'W6',
    name: 'truncated Structure: length 16, only 12 value bytes present',
    input: '42 00 20 | 01 | 00 00 00 10 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE',
    code: 'truncated',
    offset: 4,
    path: [X],
  },
  // §9.1.1.3 Table 287: fixed lengths
  {
    id: 'W7',
    name: 'Integer of length 8',
    input: '42 00 20 | 02 | 00 00 00 08 | 00 00 00 00 00 00 00 08',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W8',
    name: 'Integer of length 0',
    input: '42 00 20 | 02 | 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W9',
    name: 'Long Integer of length 4',
    input: '42 00 20 | 03 | 00 00 00 04 | 00 00 00 01 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W10',
    name: 'Enumeration of length 8',
    input: '42 00 20 | 05 | 00 00 00 08 | 00 00 00 FF 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W11',
    name: 'Boolean of length 4',
    input: '42 00 20 | 06 | 00 00 00 04 | 00 00 00 01 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W12',
    name: 'Date-Time of length 4',
    input: '42 00 20 | 09 | 00 00 00 04 | 47 DA 67 F8 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W13',
    name: 'Interval of length 8',
    input: '42 00 20 | 0A | 00 00 00 08 | 00 0D 2F 00 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W14',
    name: 'Date Time Extended of length 16',
    input: '42 00 20 | 0B | 00 00 00 10 | 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  // §9.1.1.3: Big Integer and Structure lengths vary in multiples of 8
  {
    id: 'W15',
    name: 'Big Integer of length 12 (not a multiple of 8)',
    input: '42 00 20 | 04 | 00 00 00 0C | 03 FD 35 EB 6B C2 DF 46 18 08 00 00 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W16',
    name: 'Big Integer of length 0',
    input: '42 00 20 | 04 | 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  {
    id: 'W17',
    name: 'Structure of length 12 (not a multiple of 8)',
    input: '42 00 20 | 01 | 00 00 00 0C | 42 00 04 | 07 | 00 00 00 00 | 00 00 00 00 00 00 00 00',
    code: 'bad-length',
    offset: 4,
    path: [X],
  },
  // §9.1.1.3: padding is zeros
  {
    id: 'W18',
    name: 'non-zero padding after an Integer',
    input: '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01',
    code: 'bad-padding',
    offset: 15,
    path: [X],
  },
  {
    id: 'W19',
    name: 'non-zero padding after a Text String',
    input: '42 00 20 | 07 | 00 00 00 03 | 61 62 63 00 00 20 00 00',
    code: 'bad-padding',
    offset: 13,
    path: [X],
  },
  {
    id: 'W20',
    name: 'non-zero padding after a Byte String',
    input: '42 00 20 | 08 | 00 00 00 01 | FF FF 00 00 00 00 00 00',
    code: 'bad-padding',
    offset: 9,
    path: [X],
  },
  {
    id: 'W21',
    name: 'non-zero padding after an Enumeration',
    input: '42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 80 00 00 00',
    code: 'bad-padding',
    offset: 12,
    path: [X],
  },
  {
    id: 'W22',
    name: 'non-zero padding after an Interval',
    input: '42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 01 00',
    code: 'bad-padding',
    offset: 14,
    path: [X],
  },
  // §9.1.1.2 Table 286 (+ 2.x Date Time Extended 0B): item types
  {
    id: 'W23',
    name: 'item type 0x00',
    input: '42 00 20 | 00 | 00 00 00 04 | 00 00 00 08 00 00 00 00',
    code: 'bad-type',
    offset: 3,
    path: [X],
  },
  {
    id: 'W24',
    name: 'item type 0x0C (one past Date Time Extended)',
    input: '42 00 20 | 0C | 00 00 00 08 | 00 00 00 00 00 00 00 00',
    code: 'bad-type',
    offset: 3,
    path: [X],
  },
  {
    id: 'W25',
    name: 'item type 0xFF',
    input: '42 00 20 | FF | 00 00 00 00',
    code: 'bad-type',
    offset: 3,
    path: [X],
  },
  // §9.1.1.1: tags start with 42 or 54
  {
    id: 'W26',
    name: 'tag 0x430020',
    input: '43 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00',
    code: 'bad-tag',
    offset: 0,
    path: [0x430020],
  },
  {
    id: 'W27',
    name: 'tag 0x000000 (zeros where a header should be)',
    input: '00 00 00 | 00 | 00 00 00 00',
    code: 'bad-tag',
    offset: 0,
    path: [0],
  },
  {
    id: 'W28',
    name: 'tag 0x550000 (one past the extension range)',
    input: '55 00 00 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00',
    code: 'bad-tag',
    offset: 0,
    path: [0x550000],
  },
  {
    id: 'W29',
    name: 'bad tag on the second child of a Structure',
    input:
      '42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 | 41 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00',
    code: 'bad-tag',
    offset: 24,
    path: [X, 0x410005],
  },
  // Structure lengths must equal the sum of the children (§9.1.1.3)
  {
    id: 'W30',
    name: 'child overrunning its parent: Structure length 16 holds a Text String header claiming 9 bytes',
    input: '42 00 20 | 01 | 00 00 00 10 | 42 00 04 | 07 | 00 00 00 09 | 61 62 63 64 65 66 67 68',
    code: 'length-mismatch',
    offset: 12,
    path: [X, A],
  },
  {
    id: 'W31',
    name: 'child overrunning its parent, with bytes after the parent in the input',
    input:
      '42 00 20 | 01 | 00 00 00 28 | 42 00 21 | 01 | 00 00 00 08 | 42 00 04 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00 | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 02 00 00 00 00',
    code: 'length-mismatch',
    offset: 20,
    path: [X, 0x420021, A],
  },
  {
    id: 'W32',
    name: "children shorter than the parent claims: the parent swallows its sibling's header",
    input:
      '42 00 20 | 01 | 00 00 00 28 | 42 00 21 | 01 | 00 00 00 18 | 42 00 04 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00 | 42 00 05 | 02 | 00 00 00 04 | 00 00 00 02 00 00 00 00',
    code: 'length-mismatch',
    offset: 36,
    path: [X, 0x420021, B],
  },
  {
    id: 'W33',
    name: 'Structure length 24 for 16 bytes of children, padded with zeros (zero tag where a header should be)',
    input:
      '42 00 20 | 01 | 00 00 00 18 | 42 00 04 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00 | 00 00 00 00 00 00 00 00',
    code: 'bad-tag',
    offset: 24,
    path: [X, 0],
  },
  // Limits (src/ttlv/limits.ts)
  {
    id: 'W34',
    name: 'too deep: maxDepth + 1 nested Structures (default limit)',
    input: nested(defaultDecodeLimits.maxDepth + 1),
    code: 'too-deep',
    offset: 8 * defaultDecodeLimits.maxDepth,
    path: nestedPath(defaultDecodeLimits.maxDepth + 1),
  },
  {
    id: 'W35',
    name: 'too deep: 4 nested Structures with maxDepth 3',
    input: nested(4),
    limits: { maxDepth: 3 },
    code: 'too-deep',
    offset: 24,
    path: nestedPath(4),
  },
  {
    id: 'W36',
    name: 'too large: a 24-byte input with maxBytes 16',
    input: '42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00',
    limits: { maxBytes: 16 },
    code: 'too-large',
    offset: 0,
    path: [],
  },
  {
    id: 'W37',
    name: 'too large: one byte over the default 16 MiB limit',
    input: new Uint8Array(defaultDecodeLimits.maxBytes + 1),
    code: 'too-large',
    offset: 0,
    path: [],
  },
  // Nothing after the top-level item
  {
    id: 'W38',
    name: 'trailing bytes: a second item after the first',
    input:
      '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00 | 42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00',
    code: 'trailing-bytes',
    offset: 16,
    path: [],
  },
  {
    id: 'W39',
    name: 'trailing bytes: one zero byte',
    input: '42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00 | 00',
    code: 'trailing-bytes',
    offset: 16,
    path: [],
  },
  // §9.1.1.4: Text Strings are UTF-8 (RFC 3629 forbids overlong forms, surrogates and code points above U+10FFFF)
  {
    id: 'W40',
    name: 'invalid UTF-8: overlong "/" (C0 AF)',
    input: '42 00 20 | 07 | 00 00 00 02 | C0 AF 00 00 00 00 00 00',
    code: 'bad-utf8',
    offset: 8,
    path: [X],
  },
  {
    id: 'W41',
    name: 'invalid UTF-8: overlong 3-byte NUL (E0 80 80)',
    input: '42 00 20 | 07 | 00 00 00 03 | E0 80 80 00 00 00 00 00',
    code: 'bad-utf8',
    offset: 8,
    path: [X],
  },
  {
    id: 'W42',
    name: 'invalid UTF-8: lone continuation byte (61 80 62)',
    input: '42 00 20 | 07 | 00 00 00 03 | 61 80 62 00 00 00 00 00',
    code: 'bad-utf8',
    offset: 8,
    path: [X],
  },
  {
    id: 'W43',
    name: 'invalid UTF-8: encoded surrogate U+D800 (ED A0 80)',
    input: '42 00 20 | 07 | 00 00 00 03 | ED A0 80 00 00 00 00 00',
    code: 'bad-utf8',
    offset: 8,
    path: [X],
  },
  {
    id: 'W44',
    name: 'invalid UTF-8: sequence truncated at the end of the string (E2 82 of the euro sign)',
    input: '42 00 20 | 07 | 00 00 00 03 | 61 E2 82 00 00 00 00 00',
    code: 'bad-utf8',
    offset: 8,
    path: [X],
  },
  {
    id: 'W45',
    name: 'invalid UTF-8: code point above U+10FFFF (F4 90 80 80)',
    input: '42 00 20 | 07 | 00 00 00 04 | F4 90 80 80 00 00 00 00',
    code: 'bad-utf8',
    offset: 8,
    path: [X],
  },
  {
    id: 'W46',
    name: 'invalid UTF-8: byte FF, inside a nested Text String',
    input: '42 00 20 | 01 | 00 00 00 10 | 42 00 04 | 07 | 00 00 00 01 | FF 00 00 00 00 00 00 00',
    code: 'bad-utf8',
    offset: 16,
    path: [X, A],
  },
  // §9.1.1.4: a Boolean is exactly 0 or 1
  {
    id: 'W47',
    name: 'Boolean 2',
    input: '42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 02',
    code: 'bad-value',
    offset: 8,
    path: [X],
  },
  {
    id: 'W48',
    name: 'Boolean with a high byte set (01 00 00 00 00 00 00 01)',
    input: '42 00 20 | 06 | 00 00 00 08 | 01 00 00 00 00 00 00 01',
    code: 'bad-value',
    offset: 8,
    path: [X],
  },
  // Claimed lengths far beyond the input must be refused without allocating them
  {
    id: 'W49',
    name: 'Byte String claiming 0xFFFFFFFF bytes',
    input: '42 00 20 | 08 | FF FF FF FF | 00 00 00 00 00 00 00 00',
    code: 'truncated',
    offset: 4,
    path: [X],
  },
  {
    id: 'W50',
    name: 'Structure claiming 0xFFFFFFF8 bytes',
    input: '42 00 20 | 01 | FF FF FF F8 | 42 00 04 | 02 | 00 00 00 04 | 00 00 00 01 00 00 00 00',
    code: 'truncated',
    offset: 4,
    path: [X],
  },
  {
    id: 'W51',
    name: 'error deep in a message names the whole path: bad padding in a Key Material Byte String',
    input: concat(
      header(0x42007b, 1, 0x30),
      header(0x42000f, 1, 0x28),
      header(0x42008f, 1, 0x20),
      header(0x420043, 8, 0x03),
      readAnnotatedHex('01 02 03 00 00 00 00 09'),
      b.integer(0x42002a, 256).bytes,
    ),
    code: 'bad-padding',
    offset: 39,
    path: [0x42007b, 0x42000f, 0x42008f, 0x420043],
  },
  {
    id: 'W52',
    name: 'Big Integer 1 with a second, needless word of zero sign extension (§9.1.1.4 "minimal number")',
    input: '42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01',
    code: 'bad-padding',
    offset: 8,
    path: [X],
  },
  {
    id: 'W53',
    name: 'Big Integer -1 with a needless word of 0xFF sign extension',
    input: '42 00 20 | 04 | 00 00 00 10 | FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF',
    code: 'bad-padding',
    offset: 8,
    path: [X],
  },
  {
    id: 'W54',
    name: 'null-terminated Text String "Hi\\0" (§9.1.1.4 "SHALL NOT be null-termination")',
    input: '42 00 20 | 07 | 00 00 00 03 | 48 69 00 00 00 00 00 00',
    code: 'bad-value',
    offset: 10,
    path: [X],
  },
];

function inputBytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? readAnnotatedHex(input) : input;
}

test('catalogue ids are unique and numbered W1..Wn in order', (t) => {
  t.deepEqual(
    cases.map((c) => c.id),
    cases.map((_, i) => `W${i + 1}`),
  );
});

for (const c of cases) {
  test(`${c.id} ${c.name}: ${c.code}`, (t) => {
    const bytes = inputBytes(c.input);
    const error = t.throws(() => decodeTtlv(bytes, c.limits), { instanceOf: TtlvError });
    t.is(error.code, c.code, error.message);
    if (c.offset !== undefined) t.is(error.offset, c.offset, error.message);
    t.deepEqual(error.path, c.path, error.message);
    t.is(error.name, 'TtlvError');
  });
}

// The limits' boundaries: one step inside is accepted.
test('exactly maxDepth nested Structures are accepted (default and custom limit)', (t) => {
  const depthOf = (item: TtlvItem): number =>
    Array.isArray(item.value) ? 1 + Math.max(0, ...(item.value as TtlvItem[]).map(depthOf)) : 0;
  t.is(depthOf(decodeTtlv(nested(defaultDecodeLimits.maxDepth))), defaultDecodeLimits.maxDepth);
  t.is(depthOf(decodeTtlv(nested(3), { maxDepth: 3 })), 3);
});

test('an input of exactly maxBytes is accepted', (t) => {
  const hello = readAnnotatedHex(
    '42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00',
  );
  t.is(decodeTtlv(hello, { maxBytes: 24 }).value, 'Hello World');
});

test('a message of the default maxBytes is accepted (a 16 MiB Byte String)', (t) => {
  const max = defaultDecodeLimits.maxBytes;
  const input = new Uint8Array(max);
  input.set(header(0x420020, 0x08, max - 8));
  const item = decodeTtlv(input);
  t.true(item.value instanceof Uint8Array && item.value.length === max - 8);
});

test('a limit given to decode does not reset the other limit to a default', (t) => {
  // maxDepth given alone must keep the default maxBytes (and the other way round).
  t.throws(() => decodeTtlv(new Uint8Array(defaultDecodeLimits.maxBytes + 8), { maxDepth: 3 }), {
    instanceOf: TtlvError,
    message: /^too-large/,
  });
  t.throws(() => decodeTtlv(nested(defaultDecodeLimits.maxDepth + 1), { maxBytes: 1 << 20 }), {
    instanceOf: TtlvError,
    message: /^too-deep/,
  });
});

test('TtlvError.describe and formatPath name tags through an injected namer', (t) => {
  const error = t.throws(() => decodeTtlv(inputBytes(cases[50]?.input ?? '')), { instanceOf: TtlvError });
  const names = new Map([
    [0x42007b, 'ResponseMessage'],
    [0x42000f, 'BatchItem'],
  ]);
  t.is(error.formatPath({ tagName: (tag) => names.get(tag) }), 'ResponseMessage/BatchItem/42008F/420043');
  t.is(error.formatPath(), '42007B/42000F/42008F/420043');
  t.regex(
    error.describe({ tagName: (tag) => names.get(tag) }),
    /^bad-padding at offset 39 \(ResponseMessage\/BatchItem\/42008F\/420043\)/,
  );
});

// Encoder refusals: nothing out of its type's range may reach the wire (KMIP 1.4 §9.1.1.4).
interface Refusal {
  readonly id: string;
  readonly name: string;
  readonly item: TtlvItem;
  readonly code: TtlvErrorCode;
  readonly path: readonly number[];
}

const int = (value: number): TtlvItem => ({ tag: X, type: 0x02, value });
const refusals: readonly Refusal[] = [
  { id: 'E1', name: 'Integer 2^31', item: int(2 ** 31), code: 'bad-value', path: [X] },
  { id: 'E2', name: 'Integer -2^31 - 1', item: int(-(2 ** 31) - 1), code: 'bad-value', path: [X] },
  { id: 'E3', name: 'Integer 1.5', item: int(1.5), code: 'bad-value', path: [X] },
  { id: 'E4', name: 'Integer NaN', item: int(Number.NaN), code: 'bad-value', path: [X] },
  { id: 'E5', name: 'Integer Infinity', item: int(Number.POSITIVE_INFINITY), code: 'bad-value', path: [X] },
  { id: 'E6', name: 'Enumeration -1', item: { tag: X, type: 0x05, value: -1 }, code: 'bad-value', path: [X] },
  {
    id: 'E7',
    name: 'Enumeration 2^32',
    item: { tag: X, type: 0x05, value: 2 ** 32 },
    code: 'bad-value',
    path: [X],
  },
  { id: 'E8', name: 'Interval -1', item: { tag: X, type: 0x0a, value: -1 }, code: 'bad-value', path: [X] },
  { id: 'E9', name: 'Interval 0.5', item: { tag: X, type: 0x0a, value: 0.5 }, code: 'bad-value', path: [X] },
  {
    id: 'E10',
    name: 'Long Integer 2^63',
    item: { tag: X, type: 0x03, value: 2n ** 63n },
    code: 'bad-value',
    path: [X],
  },
  {
    id: 'E11',
    name: 'Long Integer -2^63 - 1',
    item: { tag: X, type: 0x03, value: -(2n ** 63n) - 1n },
    code: 'bad-value',
    path: [X],
  },
  {
    id: 'E12',
    name: 'Date-Time 2^63',
    item: { tag: X, type: 0x09, value: 2n ** 63n },
    code: 'bad-value',
    path: [X],
  },
  {
    id: 'E13',
    name: 'Date Time Extended -2^63 - 1',
    item: { tag: X, type: 0x0b, value: -(2n ** 63n) - 1n },
    code: 'bad-value',
    path: [X],
  },
  {
    id: 'E14',
    name: 'tag 0x1000000 (four bytes)',
    item: { tag: 0x1000000, type: 0x02, value: 1 },
    code: 'bad-tag',
    path: [0x1000000],
  },
  { id: 'E15', name: 'tag -1', item: { tag: -1, type: 0x02, value: 1 }, code: 'bad-tag', path: [-1] },
  {
    id: 'E16',
    name: 'tag 0x420020.5',
    item: { tag: 0x420020 + 0.5, type: 0x02, value: 1 },
    code: 'bad-tag',
    path: [0x420020 + 0.5],
  },
  {
    id: 'E17',
    name: 'Integer out of range deep in a Structure names the path',
    item: fromJson({
      tag: '420078',
      type: 'Structure',
      value: [
        { tag: '420077', type: 'Structure', value: [{ tag: '42000D', type: 'Integer', value: 1 }] },
        { tag: '42000F', type: 'Structure', value: [{ tag: '42002A', type: 'Integer', value: 2 ** 40 }] },
      ],
    } satisfies JsonItem),
    code: 'bad-value',
    path: [0x420078, 0x42000f, 0x42002a],
  },
  {
    id: 'E18',
    name: 'Text String with a lone surrogate (not representable in UTF-8)',
    item: { tag: X, type: 0x07, value: 'ab\ud800c' },
    code: 'bad-value',
    path: [X],
  },
  {
    id: 'E19',
    name: 'Text String with a lone low surrogate at the end',
    item: { tag: X, type: 0x07, value: 'x\udc00' },
    code: 'bad-value',
    path: [X],
  },
  {
    id: 'E20',
    name: 'null-terminated Text String (§9.1.1.4)',
    item: { tag: X, type: 0x07, value: 'Hi\u0000' },
    code: 'bad-value',
    path: [X],
  },
];

test('refusal ids are unique and numbered E1..En in order', (t) => {
  t.deepEqual(
    refusals.map((c) => c.id),
    refusals.map((_, i) => `E${i + 1}`),
  );
});

for (const c of refusals) {
  test(`${c.id} encode refuses ${c.name}: ${c.code}`, (t) => {
    const error = t.throws(() => encodeTtlv(c.item), { instanceOf: TtlvError });
    t.is(error.code, c.code, error.message);
    t.deepEqual(error.path, c.path, error.message);
  });
}

test('encode accepts the range boundaries and writes them as the spec says', (t) => {
  const hex = (item: TtlvItem): string => Buffer.from(encodeTtlv(item)).toString('hex');
  const same = (item: TtlvItem, expected: Uint8Array): void => {
    t.is(hex(item), Buffer.from(expected).toString('hex'));
  };
  same(int(2 ** 31 - 1), b.integer(X, 2 ** 31 - 1).bytes);
  same(int(-(2 ** 31)), b.integer(X, -(2 ** 31)).bytes);
  same({ tag: X, type: 0x05, value: 2 ** 32 - 1 }, b.enumeration(X, 2 ** 32 - 1).bytes);
  same({ tag: X, type: 0x0a, value: 2 ** 32 - 1 }, b.interval(X, 2 ** 32 - 1).bytes);
  same({ tag: X, type: 0x03, value: 2n ** 63n - 1n }, b.longInteger(X, 2n ** 63n - 1n).bytes);
  same({ tag: X, type: 0x03, value: -(2n ** 63n) }, b.longInteger(X, -(2n ** 63n)).bytes);
  same({ tag: 0xffffff, type: 0x02, value: 0 }, concat(header(0xffffff, 2, 4), new Uint8Array(8)));
  same({ tag: X, type: 0x07, value: 'a\u{1d11e}' }, b.textString(X, 'a\u{1d11e}').bytes);
});
