/**
 * fast-check properties of the codec: arbitrary trees of all 11 item types survive encode -> decode; encode(decode(b))
 * is b for encoder output; and decode of random or mutated bytes only ever throws TtlvError. Run counts are kept
 * small enough for the whole suite to take seconds; a failure prints its seed and shrunk counterexample.
 */
import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { TtlvError } from '../../src/ttlv/errors.js';
import type { TtlvItem } from '../../src/ttlv/types.js';
import { build as b, concat, type Built } from '../support/ttlv-builder.js';
import { fromJson, toJson } from '../support/tree-json.js';
import { loadVectors } from '../support/vectors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

const tagArb = fc.oneof(
  fc.integer({ min: 0x420000, max: 0x42ffff }),
  fc.integer({ min: 0x540000, max: 0x54ffff }),
  fc.constantFrom(0x420000, 0x42ffff, 0x540000, 0x54ffff),
);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });

/** Leaves through the independent builder, so every generated tree also carries its expected bytes. */
const leafArb: fc.Arbitrary<Built> = fc.oneof(
  fc.tuple(tagArb, fc.integer()).map(([tag, v]) => b.integer(tag, v)),
  fc.tuple(tagArb, int64).map(([tag, v]) => b.longInteger(tag, v)),
  fc
    .tuple(tagArb, fc.oneof(fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }), int64))
    .map(([tag, v]) => b.bigInteger(tag, v)),
  fc.tuple(tagArb, uint32).map(([tag, v]) => b.enumeration(tag, v)),
  fc.tuple(tagArb, fc.boolean()).map(([tag, v]) => b.boolean(tag, v)),
  fc
    .tuple(
      tagArb,
      // §9.1.1.4 forbids null-termination: a string may hold NUL, but not end with it.
      fc.string({ unit: 'binary', maxLength: 40 }).filter((v) => !v.endsWith('\u0000')),
    )
    .map(([tag, v]) => b.textString(tag, v)),
  fc.tuple(tagArb, fc.uint8Array({ maxLength: 40 })).map(([tag, v]) => b.byteString(tag, v)),
  fc.tuple(tagArb, int64).map(([tag, v]) => b.dateTime(tag, v)),
  fc.tuple(tagArb, uint32).map(([tag, v]) => b.interval(tag, v)),
  fc.tuple(tagArb, int64).map(([tag, v]) => b.dateTimeExtended(tag, v)),
);

const treeArb: fc.Arbitrary<Built> = fc.letrec<{ node: Built }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc
      .tuple(tagArb, fc.array(tie('node'), { maxLength: 6 }))
      .map(([tag, children]) => b.structure(tag, children)),
  ),
})).node;

/** A top-level Structure, as every message is. */
const messageArb: fc.Arbitrary<Built> = fc
  .tuple(tagArb, fc.array(treeArb, { maxLength: 5 }))
  .map(([tag, children]) => b.structure(tag, children));

const runs = { numRuns: 300 };

test('arbitrary trees survive encode -> decode unchanged', (t) => {
  fc.assert(
    fc.property(treeArb, (built) => {
      const tree: TtlvItem = fromJson(built.json);
      assert.deepEqual(toJson(decodeTtlv(encodeTtlv(tree))), built.json);
    }),
    runs,
  );
  t.pass();
});

test('encode writes the bytes the independent builder expects for arbitrary trees', (t) => {
  fc.assert(
    fc.property(treeArb, (built) => {
      assert.equal(hex(encodeTtlv(fromJson(built.json))), hex(built.bytes));
    }),
    runs,
  );
  t.pass();
});

test('encode(decode(b)) equals b for encoder output', (t) => {
  fc.assert(
    fc.property(messageArb, (built) => {
      const bytes = encodeTtlv(fromJson(built.json));
      assert.equal(hex(encodeTtlv(decodeTtlv(bytes))), hex(bytes));
    }),
    runs,
  );
  t.pass();
});

/** Runs decode and reports anything thrown that is not a TtlvError (the property fails with it). */
function onlyTtlvErrors(bytes: Uint8Array): boolean {
  try {
    decodeTtlv(bytes, { maxDepth: 8 });
    return true;
  } catch (error) {
    if (error instanceof TtlvError) return true;
    throw error;
  }
}

test('decode of random bytes only ever throws TtlvError', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyTtlvErrors), { numRuns: 1000 });
  // Random bytes behind a plausible header reach the length, padding and value checks, not just the tag check.
  const plausible = fc
    .tuple(
      fc.constantFrom(0x42, 0x54),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0x0c }),
      fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
      fc.uint8Array({ maxLength: 80 }),
    )
    .map(([hi, lo, type, length, rest]) =>
      concat(
        Uint8Array.of(
          hi,
          lo >> 8,
          lo & 0xff,
          type,
          length >>> 24,
          (length >>> 16) & 0xff,
          (length >>> 8) & 0xff,
          length & 0xff,
        ),
        rest,
      ),
    );
  fc.assert(fc.property(plausible, onlyTtlvErrors), { numRuns: 1000 });
  t.pass();
});

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly value: number }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'truncate'; readonly at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x01, 0x08, 0x7f, 0x80, 0xff),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out: Uint8Array = Uint8Array.from(bytes);
  for (const m of mutations) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    switch (m.kind) {
      case 'flip':
        out[at] = (out[at] ?? 0) ^ m.mask;
        break;
      case 'set':
        out[at] = m.value;
        break;
      case 'insert':
        out = concat(out.subarray(0, at), Uint8Array.of(m.value), out.subarray(at));
        break;
      case 'delete':
        out = concat(out.subarray(0, at), out.subarray(at + 1));
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
    }
  }
  return out;
}

test('decode of mutated encodings only ever throws TtlvError', (t) => {
  fc.assert(
    fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (built, mutations) =>
      onlyTtlvErrors(mutate(built.bytes, mutations)),
    ),
    { numRuns: 1000 },
  );
  t.pass();
});

test('decode of mutated golden vectors only ever throws TtlvError', (t) => {
  const corpus = loadVectors().map((v) => v.bytes);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: corpus.length - 1 }),
      fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
      (i, mutations) => onlyTtlvErrors(mutate(corpus[i] ?? new Uint8Array(0), mutations)),
    ),
    { numRuns: 1000 },
  );
  t.pass();
});

test('every single-byte change of every golden vector either decodes or throws TtlvError', (t) => {
  // Exhaustive over positions, with the values that hit type, length and padding boundaries.
  let refused = 0;
  for (const v of loadVectors()) {
    for (let at = 0; at < v.bytes.length; at++) {
      for (const value of [0x00, 0x01, 0x0b, 0x0c, 0x80, 0xff]) {
        const copy = Uint8Array.from(v.bytes);
        copy[at] = value;
        try {
          decodeTtlv(copy);
        } catch (error) {
          if (!(error instanceof TtlvError))
            return t.fail(`${v.name} byte ${at} = ${value}: ${String(error)}`);
          refused++;
        }
      }
    }
  }
  t.true(refused > 0);
});

test('a successful decode of mutated bytes re-encodes to the same bytes (decode accepts only canonical TTLV)', (t) => {
  // Anything the strict decoder accepts must be exactly what the encoder would write, or the decoder is lenient
  // somewhere (padding, Boolean, lengths, Big Integer sign extension).
  let accepted = 0;
  fc.assert(
    fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 2 }), (built, mutations) => {
      const bytes = mutate(built.bytes, mutations);
      let tree: TtlvItem;
      try {
        tree = decodeTtlv(bytes);
      } catch {
        return true;
      }
      accepted++;
      assert.equal(hex(encodeTtlv(tree)), hex(bytes));
      return true;
    }),
    { numRuns: 1000 },
  );
  // Value-byte mutations of Integers, Text and Byte Strings decode fine: the property must have seen some.
  t.true(accepted > 20, `only ${accepted} mutated inputs decoded`);
});
