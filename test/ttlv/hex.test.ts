/** parseHex (tolerant hex for people), toHex and dumpTtlv (src/ttlv/hex.ts). */
import test from 'ava';
import { TtlvError } from '../../src/ttlv/errors.js';
import { dumpTtlv, parseHex, toHex } from '../../src/ttlv/hex.js';
import { fromJson } from '../support/tree-json.js';
import { loadVectors } from '../support/vectors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const vectors = loadVectors();
const spec10 = vectors.find((v) => v.name === 'spec-10-structure');

test('parseHex reads the spec style (KMIP 1.4 §9.1.2)', (t) => {
  t.is(
    hex(parseHex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00')),
    '42002002000000040000000800000000',
  );
});

test("parseHex reads kmip-go's style and mixed case", (t) => {
  t.is(hex(parseHex('420078 | 01 | 00000118')), '4200780100000118');
  t.is(hex(parseHex('42007b|01|000000Ff')), '42007b01000000ff');
});

test("parseHex drops '#' comments to the end of the line, newlines, tabs and a leading 0x", (t) => {
  const text = [
    '# Request Message',
    '42 00 78 | 01 | 00 00 00 00   # empty, # twice',
    '\t# a comment line with hex-looking words: dead beef',
    '',
  ].join('\n');
  t.is(hex(parseHex(text)), '4200780100000000');
  t.is(hex(parseHex('0x4200200700000000')), '4200200700000000');
  t.is(hex(parseHex('  0X42 00 20 07 00 00 00 00')), '4200200700000000');
  t.is(hex(parseHex('')), '');
  t.is(hex(parseHex('# nothing but a comment')), '');
});

test('parseHex agrees with the test reader on every vector file', (t) => {
  for (const v of vectors) t.is(hex(parseHex(v.text)), hex(v.bytes), v.name);
});

test("parseHex rejects non-hex with TtlvError 'bad-text'", (t) => {
  for (const text of ['42 00 2g', 'zz', '42-00', '0x42 0x00', '42 00 20 ; comment', 'é']) {
    const error = t.throws(() => parseHex(text), { instanceOf: TtlvError }, text);
    t.is(error.code, 'bad-text', text);
  }
});

test("parseHex rejects an odd number of hex digits with 'bad-text'", (t) => {
  for (const text of ['4', '42 00 2', '42 | 0 | 00']) {
    const error = t.throws(() => parseHex(text), { instanceOf: TtlvError }, text);
    t.is(error.code, 'bad-text', text);
  }
});

test('toHex writes lower-case hex without separators, for views too', (t) => {
  t.is(toHex(Uint8Array.of(0x42, 0x00, 0xab, 0xff)), '4200abff');
  t.is(toHex(new Uint8Array(0)), '');
  const backing = Uint8Array.of(1, 2, 3, 4, 5);
  t.is(toHex(backing.subarray(1, 3)), '0203');
});

test('dumpTtlv of the spec Structure example: one line per item, values after the header', (t) => {
  if (spec10 === undefined) return t.fail('no spec-10 vector');
  t.is(
    dumpTtlv(spec10.bytes),
    [
      '420020 | 01 | 00000020  420020 (Structure)',
      '420004 | 05 | 00000004 | 000000fe00000000    420004 (Enumeration)',
      '420005 | 02 | 00000004 | 000000ff00000000    420005 (Integer)',
    ].join('\n'),
  );
});

test('dumpTtlv names tags through the namer, and dumps a tree the same as its bytes', (t) => {
  if (spec10 === undefined) return t.fail('no spec-10 vector');
  const names = new Map([
    [0x420020, 'Example'],
    [0x420004, 'ApplicationSpecificInformation'],
  ]);
  const namer = { tagName: (tag: number) => names.get(tag) };
  const expected = [
    '420020 | 01 | 00000020  Example (Structure)',
    '420004 | 05 | 00000004 | 000000fe00000000    ApplicationSpecificInformation (Enumeration)',
    '420005 | 02 | 00000004 | 000000ff00000000    420005 (Integer)',
  ].join('\n');
  t.is(dumpTtlv(spec10.bytes, namer), expected);
  t.is(dumpTtlv(fromJson(spec10.json), namer), expected);
});

test('dumpTtlv indents by depth and shows padding of strings', (t) => {
  const v = vectors.find((x) => x.name === 'empty-strings');
  if (v === undefined) return t.fail('no empty-strings vector');
  t.is(
    dumpTtlv(v.bytes),
    [
      '420020 | 01 | 00000010  420020 (Structure)',
      '420004 | 07 | 00000000 |     420004 (TextString)',
      '420005 | 08 | 00000000 |     420005 (ByteString)',
    ].join('\n'),
  );
  const text = dumpTtlv(
    parseHex('42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00'),
  );
  t.is(text, '420020 | 07 | 0000000b | 48656c6c6f20576f726c640000000000  420020 (TextString)');
});

test('dumpTtlv of invalid bytes throws the decoder TtlvError instead of dumping them', (t) => {
  const error = t.throws(() => dumpTtlv(parseHex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01')), {
    instanceOf: TtlvError,
  });
  t.is(error.code, 'bad-padding');
});
