/**
 * Stream framer, tested the pg-protocol way: every whole-message vector split at every offset, and fed one byte at a
 * time, yields exactly the same messages. The header rules (KMIP 1.4 §9.1.1.1: message tags are 0x42xxxx; a message
 * is a Structure; §9.1.1.3: a Structure's length is a multiple of 8) and maxMessageBytes are enforced as the header
 * bytes arrive, before the body is buffered.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { TtlvError } from '../../src/ttlv/errors.js';
import { TtlvFramer } from '../../src/ttlv/framer.js';
import { build as b, concat, header } from '../support/ttlv-builder.js';
import { loadVectors } from '../support/vectors.js';

const messages = loadVectors().filter((v) => v.message);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const limit = { maxMessageBytes: 1 << 20 };

/** Pushes the chunks and returns each emitted message as hex (copied during the callback, as the API requires). */
function frame(chunks: readonly Uint8Array[], framer = new TtlvFramer(limit)): string[] {
  const out: string[] = [];
  for (const chunk of chunks) framer.push(chunk, (m) => out.push(hex(m)));
  return out;
}

function oneByteAtATime(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (x) => Uint8Array.of(x));
}

test('there are whole-message vectors to frame', (t) => {
  t.true(messages.length >= 5);
  for (const m of messages) t.is(m.bytes[0], 0x42, m.name);
});

for (const m of messages) {
  test(`${m.name}: split into two chunks at every offset gives the one message`, (t) => {
    for (let at = 0; at <= m.bytes.length; at++) {
      const got = frame([m.bytes.subarray(0, at), m.bytes.subarray(at)]);
      if (got.length !== 1 || got[0] !== hex(m.bytes))
        return t.fail(`split at ${at}: ${got.length} messages`);
    }
    t.pass();
  });
  test(`${m.name}: fed one byte at a time gives the one message, only after its last byte`, (t) => {
    const framer = new TtlvFramer(limit);
    const out: string[] = [];
    m.bytes.forEach((byte, i) => {
      framer.push(Uint8Array.of(byte), (x) => out.push(hex(x)));
      if (i < m.bytes.length - 1 && out.length !== 0) t.fail(`message emitted after ${i + 1} bytes`);
    });
    t.deepEqual(out, [hex(m.bytes)]);
    t.is(framer.pending, 0);
  });
}

const stream = concat(...messages.map((m) => m.bytes), ...messages.map((m) => m.bytes).reverse());
const expected = [...messages.map((m) => hex(m.bytes)), ...messages.map((m) => hex(m.bytes)).reverse()];

test('a concatenation of every message vector, twice, split at every offset gives the same messages', (t) => {
  for (let at = 0; at <= stream.length; at++) {
    const got = frame([stream.subarray(0, at), stream.subarray(at)]);
    if (JSON.stringify(got) !== JSON.stringify(expected))
      return t.fail(`split at ${at}: ${got.length} messages`);
  }
  t.pass();
});

test('the concatenation fed one byte at a time gives the same messages', (t) => {
  t.deepEqual(frame(oneByteAtATime(stream)), expected);
});

test('the concatenation in one chunk gives the same messages', (t) => {
  t.deepEqual(frame([stream]), expected);
});

test('the concatenation in chunks of 3, 7, 13 and 4096 bytes gives the same messages', (t) => {
  for (const size of [3, 7, 13, 4096]) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
    t.deepEqual(frame(chunks), expected, `chunks of ${size}`);
  }
});

test('a message larger than the framer buffer, spanning many chunks, arrives whole between small ones', (t) => {
  const small = messages[0]?.bytes ?? new Uint8Array(0);
  const payload = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 31) & 0xff);
  const big = b.structure(0x42007b, [b.byteString(0x420043, payload)]).bytes;
  const all = concat(small, big, small, big, small);
  const chunks: Uint8Array[] = [];
  for (let at = 0, size = 1; at < all.length; at += size, size = (size * 3) % 1999 || 1) {
    chunks.push(all.subarray(at, at + size));
  }
  t.true(chunks.length > 50);
  t.deepEqual(frame(chunks), [small, big, small, big, small].map(hex));
});

test('random chunkings of a random sequence of the message vectors give the same messages', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: messages.length - 1 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 0, max: 64 }), { maxLength: 40 }),
      (picks, cuts) => {
        const sent = picks.map((i) => messages[i]?.bytes ?? new Uint8Array(0));
        const all = concat(...sent);
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const cut of cuts) {
          chunks.push(all.subarray(at, at + cut));
          at = Math.min(all.length, at + cut);
        }
        chunks.push(all.subarray(at));
        return JSON.stringify(frame(chunks)) === JSON.stringify(sent.map(hex));
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('the framer does not decode: a message whose body is malformed TTLV is still cut out whole', (t) => {
  // Framing needs only the header; body validation is decode's job (and its error becomes InvalidMessage).
  const body = concat(header(0x420000, 0xff, 0), new Uint8Array(8));
  const message = concat(header(0x420078, 0x01, body.length), body);
  t.deepEqual(frame([message]), [hex(message)]);
});

test('an empty Structure message (length 0) is a whole message of 8 bytes', (t) => {
  const empty = header(0x420078, 0x01, 0);
  t.deepEqual(frame([concat(empty, empty)]), [hex(empty), hex(empty)]);
  t.deepEqual(frame(oneByteAtATime(concat(empty, empty))), [hex(empty), hex(empty)]);
});

test('an empty chunk changes nothing', (t) => {
  const m = messages[0]?.bytes ?? new Uint8Array(0);
  const framer = new TtlvFramer(limit);
  t.deepEqual(frame([new Uint8Array(0), m.subarray(0, 5), new Uint8Array(0), m.subarray(5)], framer), [
    hex(m),
  ]);
  t.is(framer.pending, 0);
});

// Refusals from the header alone.
function refusal(t: ExecutionContext, chunks: readonly Uint8Array[], framer: TtlvFramer): TtlvError {
  return t.throws(
    () => {
      for (const chunk of chunks) {
        framer.push(chunk, () => {
          t.fail('no message expected');
        });
      }
    },
    { instanceOf: TtlvError },
  );
}

test('a first byte other than 0x42 is refused at once, before 8 bytes arrive (TLS record)', (t) => {
  const framer = new TtlvFramer(limit);
  const error = refusal(t, [Uint8Array.of(0x16)], framer);
  t.is(error.code, 'bad-header');
  t.is(error.offset, 0);
});

test('"GET / HTTP/1.1" is refused at its first byte', (t) => {
  const error = refusal(t, [new TextEncoder().encode('G')], new TtlvFramer(limit));
  t.is(error.code, 'bad-header');
  t.is(error.offset, 0);
});

test('an extension tag 0x54xxxx is not a message: refused at the first byte', (t) => {
  const error = refusal(t, [Uint8Array.of(0x54)], new TtlvFramer(limit));
  t.is(error.code, 'bad-header');
});

test('a type byte other than Structure is refused at byte 4, before the length arrives', (t) => {
  for (const type of [0x00, 0x02, 0x07, 0x0b, 0xff]) {
    const framer = new TtlvFramer(limit);
    // The first three bytes are a fine start.
    framer.push(Uint8Array.of(0x42, 0x00, 0x78), () => t.fail('no message yet'));
    t.is(framer.pending, 3);
    const error = refusal(t, [Uint8Array.of(type)], framer);
    t.is(error.code, 'bad-header', `type ${type}`);
    t.is(error.offset, 3, `type ${type}`);
    t.deepEqual(error.path, [0x420078]);
  }
});

test('a length above maxMessageBytes is refused as too-large from the header alone', (t) => {
  const framer = new TtlvFramer({ maxMessageBytes: 64 });
  // 8 + 64 > 64: refused when the 8th header byte arrives; no body is ever sent.
  framer.push(header(0x420078, 0x01, 64).subarray(0, 7), () => t.fail('no message'));
  const error = refusal(t, [Uint8Array.of(64)], framer);
  t.is(error.code, 'too-large');
  t.is(error.offset, 4);
  t.deepEqual(error.path, [0x420078]);
});

test('a 4 GiB length is refused without waiting for (or allocating) the body', (t) => {
  const error = refusal(
    t,
    [header(0x420078, 0x01, 0xfffffff8)],
    new TtlvFramer({ maxMessageBytes: 1 << 24 }),
  );
  t.is(error.code, 'too-large');
});

test('a message of exactly maxMessageBytes is accepted; one Structure step (8 bytes) more is refused', (t) => {
  const body = b.textString(0x420094, 'x'.repeat(40)).bytes; // 48 bytes
  const message = concat(header(0x42007b, 0x01, body.length), body); // 56 bytes
  t.deepEqual(frame([message], new TtlvFramer({ maxMessageBytes: 56 })), [hex(message)]);
  const error = refusal(t, [message], new TtlvFramer({ maxMessageBytes: 55 }));
  t.is(error.code, 'too-large');
});

test('a Structure length that is not a multiple of 8 is refused from the header', (t) => {
  const error = refusal(t, [header(0x420078, 0x01, 12)], new TtlvFramer(limit));
  t.is(error.code, 'bad-header');
  t.is(error.offset, 4);
});

test('an error after whole messages names the stream offset of the bad header', (t) => {
  const m = messages[0]?.bytes ?? new Uint8Array(0);
  const framer = new TtlvFramer(limit);
  const got: string[] = [];
  const error = t.throws(
    () => {
      framer.push(concat(m, m, Uint8Array.of(0x42, 0, 0x78, 0x02)), (x) => got.push(hex(x)));
    },
    {
      instanceOf: TtlvError,
    },
  );
  t.deepEqual(got, [hex(m), hex(m)]);
  t.is(error.code, 'bad-header');
  t.is(error.offset, 2 * m.length + 3);
});

test('after an error every later push throws, even of valid messages, and emits nothing', (t) => {
  const m = messages[0]?.bytes ?? new Uint8Array(0);
  const framer = new TtlvFramer(limit);
  const first = refusal(t, [Uint8Array.of(0x16, 0x03, 0x01)], framer);
  for (const chunk of [m, new Uint8Array(0), Uint8Array.of(0x42)]) {
    const again = t.throws(
      () => {
        framer.push(chunk, () => {
          t.fail('no message after an error');
        });
      },
      { instanceOf: TtlvError },
    );
    t.is(again.code, first.code);
  }
});

test('pending counts the buffered bytes of an incomplete message', (t) => {
  const [m1, m2] = [messages[0]?.bytes ?? new Uint8Array(0), messages[1]?.bytes ?? new Uint8Array(0)];
  const framer = new TtlvFramer(limit);
  const got: string[] = [];
  const push = (chunk: Uint8Array): void => {
    framer.push(chunk, (x) => got.push(hex(x)));
  };
  t.is(framer.pending, 0);
  push(m1.subarray(0, 5));
  t.is(framer.pending, 5);
  push(m1.subarray(5, 12));
  t.is(framer.pending, 12);
  push(concat(m1.subarray(12), m2.subarray(0, 3)));
  t.deepEqual(got, [hex(m1)]);
  t.is(framer.pending, 3);
  push(m2.subarray(3));
  t.deepEqual(got, [hex(m1), hex(m2)]);
  t.is(framer.pending, 0);
});

test('a maxMessageBytes below one header is refused at construction', (t) => {
  t.throws(() => new TtlvFramer({ maxMessageBytes: 7 }), { instanceOf: RangeError });
  t.notThrows(() => new TtlvFramer({ maxMessageBytes: 8 }));
});
