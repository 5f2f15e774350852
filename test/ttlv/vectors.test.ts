/**
 * Golden vectors (test/vectors), each checked the mqtt-packet way: decode(bytes) is the expected tree, encode(tree)
 * is the expected bytes, and decode(encode(tree)) gives the tree back.
 */
import test from 'ava';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { constructedVectors } from '../support/constructed-vectors.js';
import { build as b, vectorFileText } from '../support/ttlv-builder.js';
import { fromJson, toJson } from '../support/tree-json.js';
import { loadVectors, readAnnotatedHex } from '../support/vectors.js';

const vectors = loadVectors();
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('the vector directory holds every spec example and every constructed vector', (t) => {
  const names = vectors.map((v) => v.name);
  t.is(names.filter((n) => n.startsWith('spec-')).length, 10);
  for (const { name } of constructedVectors) t.true(names.includes(name), name);
  t.true(vectors.filter((v) => v.message).length >= 5);
});

for (const v of vectors) {
  test(`${v.name}: decode gives the expected tree`, (t) => {
    t.deepEqual(toJson(decodeTtlv(v.bytes)), v.json);
  });
  test(`${v.name}: encode gives the expected bytes`, (t) => {
    t.is(hex(encodeTtlv(fromJson(v.json))), hex(v.bytes));
  });
  test(`${v.name}: decode(encode(tree)) gives the tree back`, (t) => {
    t.deepEqual(toJson(decodeTtlv(encodeTtlv(fromJson(v.json)))), v.json);
  });
}

// The constructed vector files must be exactly what their definitions build (run test/support/write-vectors.ts).
for (const { name, title, built } of constructedVectors) {
  test(`${name}: the file matches its builder definition`, (t) => {
    const v = vectors.find((x) => x.name === name);
    if (v === undefined) return t.fail(`test/vectors/${name}.ttlv is missing`);
    t.is(v.text, vectorFileText(built, title));
    t.deepEqual(v.json, built.json);
  });
}

// The builder must itself reproduce the spec's bytes, or the constructed vectors would prove nothing.
test('the independent builder reproduces every KMIP 1.4 §9.1.2 example', (t) => {
  const spec = (n: string): string => {
    const v = vectors.find((x) => x.name.startsWith(`spec-${n}`));
    if (v === undefined) throw new Error(`no spec-${n} vector`);
    return hex(v.bytes);
  };
  const X = 0x420020;
  t.is(hex(b.integer(X, 8).bytes), spec('01'));
  t.is(hex(b.longInteger(X, 123456789000000000n).bytes), spec('02'));
  t.is(hex(b.bigInteger(X, 1234567890000000000000000000n).bytes), spec('03'));
  t.is(hex(b.enumeration(X, 255).bytes), spec('04'));
  t.is(hex(b.boolean(X, true).bytes), spec('05'));
  t.is(hex(b.textString(X, 'Hello World').bytes), spec('06'));
  t.is(hex(b.byteString(X, Uint8Array.of(1, 2, 3)).bytes), spec('07'));
  t.is(hex(b.dateTime(X, BigInt(Date.UTC(2008, 2, 14, 11, 56, 40) / 1000)).bytes), spec('08'));
  t.is(hex(b.interval(X, 10 * 24 * 3600).bytes), spec('09'));
  t.is(hex(b.structure(X, [b.enumeration(0x420004, 254), b.integer(0x420005, 255)]).bytes), spec('10'));
});

// A few constructed bytes checked by hand, so the builder is not the only witness for them.
test('hand-checked bytes: negative and sign-byte Big Integers, empty items, UTF-8 length in bytes', (t) => {
  const cases: [string, string][] = [
    // two's complement of 0x03FD35EB6BC2DF4618080000, sign-extended with FF to 16 bytes
    ['420020 04 00000010 FFFFFFFFFC02CA14943D20B9E7F80000', 'big-integer-negative'],
    ['420020 01 00000000', 'empty-structure'],
    ['420020 07 00000000', 'empty-text-string'],
  ];
  for (const [expected, name] of cases) {
    const v = vectors.find((x) => x.name === name);
    t.is(v === undefined ? undefined : hex(v.bytes), hex(readAnnotatedHex(expected)), name);
  }
  // 2^63 needs a leading 00 sign byte, hence 16 bytes; -2^63-1 a leading FF.
  t.is(
    hex(encodeTtlv(fromJson(b.bigInteger(0x420004, 2n ** 63n).json))),
    hex(readAnnotatedHex('42 00 04 | 04 | 00 00 00 10 | 00 00 00 00 00 00 00 00 80 00 00 00 00 00 00 00')),
  );
  t.is(
    hex(encodeTtlv(fromJson(b.bigInteger(0x420004, -(2n ** 63n) - 1n).json))),
    hex(readAnnotatedHex('42 00 04 | 04 | 00 00 00 10 | FF FF FF FF FF FF FF FF 7F FF FF FF FF FF FF FF')),
  );
  // "ü€𝄞" is 2 + 3 + 4 = 9 bytes: length 9, then 7 bytes of padding.
  t.is(
    hex(encodeTtlv(fromJson({ tag: '420020', type: 'TextString', value: 'ü€𝄞' }))),
    '4200200700000009c3bce282acf09d849e00000000000000',
  );
});

test('decoded values have the JavaScript types the item types promise', (t) => {
  const v = vectors.find((x) => x.name === 'all-types-nested');
  if (v === undefined) return t.fail('no all-types-nested vector');
  const kinds: string[] = [];
  const walk = (item: ReturnType<typeof decodeTtlv>): void => {
    if (Array.isArray(item.value)) {
      (item.value as ReturnType<typeof decodeTtlv>[]).forEach(walk);
      return;
    }
    kinds.push(`${item.type}:${item.value instanceof Uint8Array ? 'bytes' : typeof item.value}`);
  };
  walk(decodeTtlv(v.bytes));
  t.deepEqual(kinds, [
    '2:number',
    '3:bigint',
    '4:bigint',
    '5:number',
    '6:boolean',
    '7:string',
    '8:bytes',
    '9:bigint',
    '10:number',
    '11:bigint',
  ]);
});

test('a decoded Byte String is a copy: changing the input afterwards does not change it', (t) => {
  const input = Uint8Array.from(readAnnotatedHex('42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00'));
  const item = decodeTtlv(input);
  input[8] = 0xee;
  t.deepEqual(toJson(item), { tag: '420020', type: 'ByteString', value: '010203' });
});

test('decode reads a Uint8Array view at a non-zero offset of a larger buffer', (t) => {
  const spec = readAnnotatedHex('42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00');
  const backing = new Uint8Array(64).fill(0xaa);
  backing.set(spec, 13);
  const view = backing.subarray(13, 13 + spec.length);
  t.deepEqual(toJson(decodeTtlv(view)), { tag: '420020', type: 'Integer', value: 8 });
  t.deepEqual(toJson(decodeTtlv(new Uint8Array(view))), { tag: '420020', type: 'Integer', value: 8 });
});

test('encode output is a fresh buffer per call: a second encode does not change the first result', (t) => {
  const first = encodeTtlv(fromJson({ tag: '420020', type: 'Integer', value: 8 }));
  const copy = hex(first);
  encodeTtlv(fromJson({ tag: '420021', type: 'TextString', value: 'x'.repeat(5000) }));
  encodeTtlv(fromJson({ tag: '420022', type: 'Integer', value: -1 }));
  t.is(hex(first), copy);
});

test('encode grows its buffer: a 100 kB Byte String inside a Structure keeps every byte and the lengths', (t) => {
  const big = Uint8Array.from({ length: 100_001 }, (_, i) => (i * 7) & 0xff);
  const built = b.structure(0x420020, [
    b.integer(0x420004, 1),
    b.byteString(0x420005, big),
    b.integer(0x420004, 2),
  ]);
  t.is(hex(encodeTtlv(fromJson(built.json))), hex(built.bytes));
});

test('encode grows its buffer when a fixed-size value crosses the initial buffer size at any alignment', (t) => {
  // Runs of 8-byte and 16-byte items that put a header or a value at every position around 1 KiB, 2 KiB, 4 KiB.
  for (let count = 60; count <= 300; count++) {
    const children = Array.from({ length: count }, (_, i) =>
      i % 3 === 0
        ? b.integer(0x420004, -i)
        : i % 3 === 1
          ? b.longInteger(0x420005, BigInt(i) << 40n)
          : b.boolean(0x420006, true),
    );
    const built = b.structure(0x420020, [b.textString(0x420007, 'x'.repeat(count % 8)), ...children]);
    const actual = hex(encodeTtlv(fromJson(built.json)));
    if (actual !== hex(built.bytes))
      return t.fail(`${count} children: encoder output differs from the builder`);
  }
  t.pass();
});
