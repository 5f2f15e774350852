/**
 * Result Messages are encoded as ASCII (src/kmip/message.ts asciiResultMessage): a client that decodes a Text String
 * one byte at a time must still be able to read the reason the server gave.
 */
import test from 'ava';
import { asciiResultMessage, encodeResponseMessage, ResultStatus } from '../../src/kmip/message.js';
import { tag } from '../../src/kmip/vocabulary.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import type { TtlvItem } from '../../src/ttlv/types.js';

const isAscii = (text: string): boolean => !/[^\x20-\x7e\t\n]/u.test(text);

test('the server’s own typography is spelled out in ASCII', (t) => {
  t.is(asciiResultMessage('see KMIP 1.4 §4.14'), 'see KMIP 1.4 section 4.14');
  t.is(asciiResultMessage('KMIP 1.4 § 9.1.1.4'), 'KMIP 1.4 section 9.1.1.4');
  t.is(
    asciiResultMessage('a time within ±30 s — or ≈ 1 µs → “now”'),
    'a time within +/-30 s - or ~ 1 us -> "now"',
  );
});

test('any other character is written as an escape naming it, and ASCII is left as it is', (t) => {
  t.is(asciiResultMessage('no object named clé'), 'no object named cl\\u00e9');
  t.is(asciiResultMessage('名'), '\\u540d');
  t.is(
    asciiResultMessage('key 😀 here'),
    'key \\u{1f600} here',
    'a character beyond the BMP is one escape, not two',
  );
  t.is(asciiResultMessage('a\u0000b\u001bc'), 'a\\u0000b\\u001bc', 'control characters are escaped too');
  const plain = 'Item Not Found: no object with Unique Identifier 1234\t(tab kept)';
  t.is(asciiResultMessage(plain), plain);
});

test('an encoded response carries the message as ASCII bytes', (t) => {
  const message = encodeResponseMessage(
    { protocolVersion: { major: 1, minor: 4 }, version: '1.4', timeStamp: 0n },
    [
      {
        operation: undefined,
        uniqueBatchItemId: undefined,
        resultStatus: ResultStatus.OperationFailed,
        resultMessage: 'KMIP 1.4 §4.14 for clé',
      },
    ],
  );
  const bytes = encodeTtlv(message);
  t.true(bytes.includes(Buffer.from('KMIP 1.4 section 4.14 for cl\\u00e9')), 'the message, as ASCII bytes');
  t.false(bytes.includes(Buffer.from('§')) || bytes.includes(Buffer.from('é')), 'no UTF-8 sequence of them');
  const text = findText(decodeTtlv(bytes), tag('ResultMessage'));
  t.is(text, 'KMIP 1.4 section 4.14 for cl\\u00e9');
  t.true(text !== undefined && isAscii(text));
});

function findText(item: TtlvItem, wanted: number): string | undefined {
  if (item.tag === wanted && typeof item.value === 'string') return item.value;
  if (Array.isArray(item.value)) {
    for (const child of item.value as TtlvItem[]) {
      const found = findText(child, wanted);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
